"""The sink thread: sinks touch nothing but their own store, their own input offsets and the
(locked) bus, and SQLite releases the GIL while it writes, so store writes overlap with processing
on a second core, and a long store flush never delays a field query."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from argus import metrics
from argus.bus.base import Fenced, RegistryUnavailable
from argus.contracts import Backpressure, Sink
from argus.runtime.host import Host, NodeFailure

if TYPE_CHECKING:
    import threading
    from contextlib import AbstractContextManager

log = logging.getLogger("argus.runtime")


class SinkThread:
    # What this part uses of the runtime's other parts (core.py composes them into one
    # runtime; tests/unit/test_runtime_parts.py checks this list is whole and provided).
    _sink_stop: threading.Event
    _sink_wake: threading.Event
    _units_lock: threading.Lock
    fenced: set[str]
    if TYPE_CHECKING:

        def _cpu(self, host: Host) -> AbstractContextManager[None]: ...
        def _pending(self, host: Host, topic: str) -> bool: ...
        def _queries_queued(self) -> bool: ...
        def _run_batch(self, host: Host, topic: str) -> int: ...

    def _sink_loop(self) -> None:
        try:
            while not self._sink_stop.is_set():
                worked = 0
                for unit in list(self._sink_units):
                    with self._units_lock:
                        if unit not in self._sink_units:
                            continue  # its task was stopped
                        host, topic = unit
                        if not self._pending(host, topic):
                            continue
                        try:
                            with self._cpu(host):
                                worked += self._run_batch(host, topic)
                        except Fenced as exc:  # another worker owns it now: stop, drop (worker.py)
                            log.warning("%s: %s; leaving it to its new owner", host.name, exc)
                            self._sink_units = [u for u in self._sink_units if u[0] is not host]
                            assert host.task is not None
                            self.fenced.add(host.task.id)
                if not worked:
                    self._sink_wake.wait(0.01)
                    self._sink_wake.clear()
        except BaseException as exc:  # surfaced to the scheduling thread, which stops
            log.exception("sink thread failed")
            self._sink_error = exc

    def _check_sinks(self) -> None:
        if isinstance(self._sink_error, RegistryUnavailable):
            raise self._sink_error  # the process's to handle (argus run exits 75), not a node's failure
        if self._sink_error is not None:
            raise NodeFailure(f"sink failed: {self._sink_error}") from self._sink_error

    def sinks_idle(self) -> bool:
        return all(not self._pending(h, t) for h, t in self._sink_units)

    def _flush(self, host: Host) -> bool:
        """Flush a sink, waiting out backpressure; False if the runtime is stopping."""
        node = host.node
        assert isinstance(node, Sink)
        failures = 0
        while True:
            try:
                node.flush()
                return True
            except Backpressure as bp:
                if self._sink_stop.wait(bp.retry_after):
                    return False
            except Exception as exc:
                failures += 1
                metrics.ERRORS.labels(host.name).inc()
                if failures > host.model.error_policy.retries:
                    raise NodeFailure(f"sink {host.name} cannot flush: {exc}") from exc
                time.sleep(
                    min(host.model.error_policy.backoff_ms * 2**failures, host.model.error_policy.max_backoff_ms) / 1000
                )

    def _yield_to_queries(self, limit: float = 0.05) -> None:
        """Sink thread: step aside (release the GIL) while a field query is queued."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and self._queries_queued():
            time.sleep(0.0005)
