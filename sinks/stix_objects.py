"""Keeps every version of every STIX object as sent, for exports and the TAXII server.

It reads the connectors' `stix.objects` topic directly, before dedup: dedup passes only the
newest version on to entity resolution, but history is part of what a partner shared.
"""

from __future__ import annotations

import orjson

from argus.contracts import Context, Sink
from argus.records import Record
from argus.security.policy import Marking
from argus.stix.markings import to_tlp2
from argus.stores.stix import StixItem, StixStore


class StixObjectSink(Sink):
    accepts = ("stix_object.v1", "purge.v1")
    stores = ("stix",)

    def setup(self, ctx: Context) -> None:
        self.store: StixStore = ctx.stores["stix"]
        self._items: list[StixItem] = []

    def add(self, record: Record) -> None:
        if "purge_id" in record.value:
            self._drain()
            self.store.delete_record(record.value["record_id"])
            return
        env = record.envelope
        m = Marking.from_envelope(env)
        obj = to_tlp2(orjson.loads(record.body["object_json"]))
        self._items.append(StixItem(obj, env["id"], m.agency, m.tlp, m.props()))

    def _drain(self) -> None:
        if self._items:
            self.store.put(self._items)
            self._items = []

    def flush(self) -> None:
        self._drain()
        self.store.commit()
