"""What a topology that cannot run is refused with: every problem, each in a line."""

from __future__ import annotations


class TopologyError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("topology has problems:\n  - " + "\n  - ".join(problems))
        self.problems = problems
