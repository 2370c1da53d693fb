"""One quixstreams worker hosting the dedup processor: exactly-once, RocksDB state with changelog."""

from __future__ import annotations

import os
import sys

from quixstreams import Application

from bench.frameworks.workload import process


def main() -> None:
    bootstrap, prefix, state_dir = sys.argv[1:4]
    commit_interval = float(os.environ.get("QUIX_COMMIT_INTERVAL", "5.0"))  # its default
    app = Application(
        commit_interval=commit_interval,
        broker_address=bootstrap,
        consumer_group=f"{prefix}quix",
        processing_guarantee="exactly-once",
        auto_offset_reset="earliest",
        state_dir=state_dir,
        loglevel="WARNING",
    )
    tin = app.topic(f"{prefix}in", key_deserializer="string", value_deserializer="bytes")
    tout = app.topic(f"{prefix}out", key_serializer="string", value_serializer="bytes")
    sdf = app.dataframe(tin)

    def fn(value: bytes, key: str, _ts: int, _headers: object, state: object) -> list[bytes]:
        return [v for _k, v in process(key, value, state.get, state.set)]  # type: ignore[attr-defined]

    sdf = sdf.apply(fn, stateful=True, expand=True, metadata=True)
    sdf.to_topic(tout)
    app.run()


if __name__ == "__main__":
    main()
