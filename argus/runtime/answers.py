"""Answering a field query in the process that resolved it: the next node of the query lane
reads the record at once, and its answer joins the producer's transaction."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from argus.bus.base import partition_for
from argus.contracts import Processor
from argus.records import Record
from argus.runtime.host import Host
from argus.schemas import SchemaError

if TYPE_CHECKING:
    from argus.bus.base import Bus
    from argus.schemas import SchemaSet, TopicSchema
    from argus.topology import Topology

log = logging.getLogger("argus.runtime")


class Answers:
    # What this part uses of the runtime's other parts (core.py composes them into one
    # runtime; tests/unit/test_runtime_parts.py checks this list is whole and provided).
    _topic_schema: dict[str, TopicSchema]
    bus: Bus | None
    hosts: dict[str, Host]
    schemas: SchemaSet
    topo: Topology
    if TYPE_CHECKING:

        def _encode_outputs(self, host: Host, outs: list[Record]) -> list[tuple[str, str | None, bytes]]: ...

    def _answerers(self, host: Host, topic: str, key: str | None) -> list[Host]:
        """The nodes in this process that may answer a record `host` writes to `topic` at once
        (_answer_here): on the field-query lane, declaring the topic's schema stateless, and
        holding the partition the record goes to."""
        if self._here is None:
            here: dict[str, list[Host]] = {}
            if self.topo.model.answer_in_process:
                for t, spec in self.topo.topics.items():
                    if spec.priority != "high":
                        continue
                    here[t] = [
                        h
                        for h in self.hosts.values()
                        if isinstance(h.node, Processor)
                        and t in h.model.inputs
                        and spec.schema_ in type(h.node).stateless_inputs
                    ]
            self._here = here
        found = self._here.get(topic)
        if not found:
            return []
        assert self.bus is not None
        part = partition_for(key, self.bus.partitions(topic))
        return [h for h in found if h is not host and (h.task is None or h.task.owns(part))]

    def _answer_here(
        self, host: Host, topic: str, key: str | None, data: bytes, alerts: list[dict[str, Any]]
    ) -> tuple[list[Host], list[tuple[str, str | None, bytes]]]:
        """Hand a field query's answer to the next node of the lane in this process, now: its
        output joins the producer's transaction, and the record is marked answered (ANSWERED_BY)
        so that node skips it when it reads it. The node reads its state as it stands, as it
        would reading the record a hop later; it must not write (checked: a node that does is
        left to read the record from the bus). Exactly once holds because answer and alert
        commit together or not at all. A node that fails here reads the record from the bus,
        where its error policy applies. Returns who answered and what they wrote. Nothing here
        raises into the producer's record: a failure leaves the record to the bus path."""
        done: list[Host] = []
        extra: list[tuple[str, str | None, bytes]] = []
        by = self._answerers(host, topic, key)
        if not by:
            return done, extra
        try:
            rec = Record(self.schemas.decode(data, self._topic_schema[topic]), key=key, topic=topic)
        except SchemaError:
            return done, extra
        for h in by:
            writes = h.state.writes
            h.state.begin_record()
            try:
                outs = list(h.node.process(rec, h.ctx))  # type: ignore[union-attr]
                encoded = self._encode_outputs(h, outs)
            except Exception as exc:
                h.state.end_record(False)
                log.warning("%s could not answer %s in process (%s); it reads it from the bus", h.name, topic, exc)
                continue
            if h.state.writes != writes:
                h.state.end_record(False)
                log.error(
                    "%s wrote state answering %s, which it declares stateless; it reads it from the bus", h.name, topic
                )
                continue
            h.state.end_record(True)
            done.append(h)
            extra.extend(encoded)
            if h.emits_alerts:
                alerts.extend(o.value["body"] for o in outs)
        return done, extra
