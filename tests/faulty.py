"""`python tests/faulty.py NODE:PHASE:N ARGUS-ARGS...`: the `argus` command, SIGKILLed the N-th
time NODE reaches PHASE (argus/runtime/faults.py). The crash tests start the runtime this way, so
the fault is the test's and production code reads no switch for it."""

from __future__ import annotations

import os
import signal
import sys

from argus.runtime import faults


class KillAt(faults.Faults):
    def __init__(self, spec: str) -> None:
        node, phase, n = spec.split(":")
        self.node, self.phase, self.n = node, phase, int(n)

    def hit(self, node: str, phase: str) -> None:
        if node == self.node and phase == self.phase:
            self.n -= 1
            if self.n <= 0:
                os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    spec, *args = sys.argv[1:]
    faults.installed = KillAt(spec)
    sys.argv = ["argus", *args]
    from argus.cli import main

    main()
