"""Where a test may stop the runtime: a node reaching a phase of a batch (`after_flush`: a sink's
writes durable, its offsets not yet committed; `before_commit`). The runtime calls the hook it
was given; production runs one that does nothing, and the crash tests install their own
(tests/faulty.py) in the process they start and then kill."""

from __future__ import annotations


class Faults:
    def hit(self, node: str, phase: str) -> None:
        """A node reached `phase`: nothing happens unless a test installed a fault here."""


installed: Faults = Faults()
