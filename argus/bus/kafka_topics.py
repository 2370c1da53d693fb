"""The Kafka bus's topics on the broker: created in one request, waited for until they have
leaders, and kept to the cleanup policy and retention the topology says."""

from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, NewTopic

from argus.bus.base import TopicSpec

log = logging.getLogger("argus.bus")

TIMEOUT = 30.0  # every call to the broker or the registry that can wait
STATE_CONFIG = {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}


def topic_config(spec: TopicSpec) -> dict[str, str]:
    """A topology topic's settings as Kafka topic configs."""
    policy = "compact" if spec.compacted else "delete"
    if spec.compacted and spec.retention_hours:
        policy = "compact,delete"  # the latest per key, and nothing older than the retention
    config = {"cleanup.policy": policy}
    if spec.retention_hours:
        config["retention.ms"] = str(spec.retention_hours * 3_600_000)
    if spec.retention_hours or spec.compacted:
        # The broker deletes or compacts whole segments, never the one being written, which
        # rolls after segment.ms (7 days by default): a record would outlive its retention, or
        # a purge's tombstone its record, by up to that. A day at most, here.
        config["segment.ms"] = str(min(spec.retention_hours or 24, 24) * 3_600_000)
    return config


class TopicAdmin:
    """Topic creation and settings through the cluster's admin API, as this process connects to
    it (credentials, ACLs)."""

    def __init__(self, admin: AdminClient) -> None:
        self.admin = admin

    def ensure(self, name: str, partitions: int, config: dict[str, str] | None = None) -> int:
        """An internal topic (changelog, schemas, the group's coordination): its partition count."""
        ready, _ = self.create({name: (partitions, config or {})})
        return len(ready[name].partitions)

    def create(self, wanted: dict[str, tuple[int, dict[str, str]]]) -> tuple[dict[str, Any], list[str]]:
        """Create those of `wanted` (name -> partitions, config) that are missing, in one request,
        then wait until every one has leaders. Their metadata, and which were created here."""

        def listed() -> dict[str, Any]:
            only = next(iter(wanted)) if len(wanted) == 1 else None  # one topic: ask for it alone
            return self.admin.list_topics(only, timeout=TIMEOUT).topics

        have = listed()
        missing = [n for n in wanted if not (n in have and have[n].error is None and have[n].partitions)]
        if missing:
            futures = self.admin.create_topics([NewTopic(n, wanted[n][0], 1, config=wanted[n][1]) for n in missing])
            for f in futures.values():
                try:
                    f.result(TIMEOUT)
                except KafkaException as exc:
                    if "TOPIC_ALREADY_EXISTS" not in str(exc):
                        raise
        deadline = time.time() + TIMEOUT
        while True:
            ready = {
                n: have[n]
                for n in wanted
                if n in have and have[n].partitions and all(p.leader >= 0 for p in have[n].partitions.values())
            }
            if len(ready) == len(wanted):
                return ready, missing
            if time.time() > deadline:
                raise TimeoutError(f"topics {sorted(set(wanted) - set(ready))} have no leaders after {TIMEOUT}s")
            time.sleep(0.1)
            have = listed()

    def partitions(self, name: str) -> int | None:
        """A topic's partition count on the broker, None when it has none."""
        md = self.admin.list_topics(name, timeout=TIMEOUT).topics.get(name)
        return len(md.partitions) if md is not None and md.partitions else None

    def settle(self, specs: dict[str, TopicSpec]) -> None:
        """Topics that were there already get the cleanup policy and retention the topology
        says now: an operator shortening retention (how long a purged record can linger on a
        topic that is not compacted: docs/security.md) edits topology.yaml, not the broker. A
        retention the topology no longer sets goes back to the broker's default (and so does the
        segment roll set with it)."""
        changes = self._changes(specs)
        if not changes:
            return
        for res in changes:
            ops = res.incremental_configs
            log.info("topic %s: setting %s", res.name, ", ".join(f"{o.name}={o.value}" for o in ops))
        for fut in self.admin.incremental_alter_configs(changes, request_timeout=TIMEOUT).values():
            fut.result(TIMEOUT)
        # The controller has committed the change; the broker applies it from its metadata log a
        # moment later, and until then describes the old settings. Return once it says the new ones.
        deadline = time.monotonic() + TIMEOUT
        while pending := self._changes({r.name: specs[r.name] for r in changes}):
            if time.monotonic() > deadline:
                raise TimeoutError(f"topic settings not in effect after {TIMEOUT}s: {[r.name for r in pending]}")
            time.sleep(0.1)

    def _changes(self, specs: dict[str, TopicSpec]) -> list[ConfigResource]:
        """What each topic's settings on the broker lack of what its spec says."""
        if not specs:
            return []
        resources = [ConfigResource(ConfigResource.Type.TOPIC, n) for n in specs]
        changes = []
        for res, fut in self.admin.describe_configs(resources, request_timeout=TIMEOUT).items():
            have = fut.result(TIMEOUT)
            want = topic_config(specs[res.name])
            ops = [
                ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                for k, v in want.items()
                if k not in have or have[k].value != v
            ]
            for k in ("retention.ms", "segment.ms"):
                got = have.get(k)
                if k not in want and got is not None and got.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value:
                    ops.append(ConfigEntry(k, None, incremental_operation=AlterConfigOpType.DELETE))
            if ops:
                changes.append(ConfigResource(ConfigResource.Type.TOPIC, res.name, incremental_configs=ops))
        return changes
