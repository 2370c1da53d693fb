"""Settings read from the environment at start: a bad value stops the process with the variable
named, rather than running on a guess."""

from __future__ import annotations

import os


def whole_number(var: str, default: int, unit: str) -> int:
    """`var` as a whole number above 0 (`default` when unset); `unit` names it in the error."""
    raw = os.environ.get(var, str(default))
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{var} must be a whole number of {unit} above 0, not {raw!r}")
    return int(raw)
