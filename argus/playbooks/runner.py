"""The executor's host: a thread with its own event loop, beside the API. It claims executions
that are running and unowned (new ones, and those a dead process left: its lease lapses), runs each
as a task, renews its leases, and turns trigger events and schedules into executions. Everything
it knows is in the store, so a restarted process picks up where the last one died."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from argus.playbooks.executor import Executor
from argus.stores.playbooks import PlaybookStore

log = logging.getLogger(__name__)
LEASE_S = 5.0


class Runner:
    def __init__(
        self, store: Callable[[], PlaybookStore], executor: Callable[[], Executor],
        triggers: Callable[[], int] | None = None, poll_s: float = 0.2, lease_s: float = LEASE_S,
    ) -> None:  # fmt: skip
        self.store, self.executor, self.triggers = store, executor, triggers
        self.poll_s, self.lease_s = poll_s, lease_s
        self.owner = f"runner-{uuid.uuid4().hex[:12]}"
        self.running: dict[str, asyncio.Task[Any]] = {}
        self._stop = threading.Event()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._host, name="playbooks", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for new executions now rather than at the next poll."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # it closed meanwhile: nothing to wake
                loop.call_soon_threadsafe(event.set)

    def stop(self) -> None:
        self._stop.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(5)

    def _host(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException:
            log.exception("the playbook runner stopped")
            raise

    async def _main(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        executor, last_triggers = self.executor(), 0.0
        while not self._stop.is_set():
            try:
                await asyncio.to_thread(self._claim_all, executor)
                if self.triggers is not None and time.monotonic() - last_triggers >= 0.5:
                    last_triggers = time.monotonic()
                    started = await asyncio.to_thread(self.triggers)
                    if started:
                        await asyncio.to_thread(self._claim_all, executor)
            except Exception:  # a store outage: the next round tries again
                if not self._stop.is_set():  # (stopping: the stores may already be closed)
                    log.warning("playbook runner round failed", exc_info=True)
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_s)
            except TimeoutError:
                pass
            self._wake.clear()
        for task in self.running.values():
            task.cancel()

    def _claim_all(self, executor: Executor) -> None:
        store, now = self.store(), time.time()
        for ex_id in list(self.running):
            store.claim(ex_id, self.owner, now, self.lease_s)
        for ex in store.unfinished():
            if ex["id"] not in self.running and store.claim(ex["id"], self.owner, now, self.lease_s):
                assert self._loop is not None
                self._loop.call_soon_threadsafe(self._spawn, executor, ex["id"])

    def _spawn(self, executor: Executor, ex_id: str) -> None:
        if ex_id in self.running:
            return
        task = asyncio.get_running_loop().create_task(executor.run(ex_id))
        self.running[ex_id] = task
        task.add_done_callback(lambda t: self._done(ex_id, t))

    def _done(self, ex_id: str, task: asyncio.Task[Any]) -> None:
        self.running.pop(ex_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("execution %s stopped on an error", ex_id, exc_info=task.exception())
