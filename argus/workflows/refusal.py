"""What every workflow raises when its rules do not allow a step: the HTTP status it answers
with, the field it is about and the problem, which the API turns into one problem document
(argus/api/deps.py: refused)."""

from __future__ import annotations


class Refused(Exception):
    def __init__(self, status: int, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.status, self.field, self.problem = status, field, problem
