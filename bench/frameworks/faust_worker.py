"""One faust-streaming worker hosting the dedup processor: exactly_once, a changelog-backed table."""

from __future__ import annotations

import sys

import faust

from bench.frameworks.workload import process


def main() -> None:
    bootstrap, prefix, data_dir = sys.argv[1:4]
    app = faust.App(
        f"{prefix}faust",
        broker=f"kafka://{bootstrap}",
        processing_guarantee="exactly_once",
        store="memory://",
        topic_partitions=4,
        web_enabled=False,
        datadir=data_dir,
        consumer_auto_offset_reset="earliest",
        producer_linger_ms=1,
    )
    tin = app.topic(f"{prefix}in", key_serializer="raw", value_serializer="raw", partitions=4)
    tout = app.topic(f"{prefix}out", key_serializer="raw", value_serializer="raw", partitions=4)
    table = app.Table("dedup", default=None, partitions=4)

    @app.agent(tin)
    async def dedup(stream):  # type: ignore[no-untyped-def]
        async for key, value in stream.items():

            def put(k: str, v: object) -> None:
                table[k] = v

            for ok, ov in process(key.decode(), value, table.get, put):
                await tout.send(key=ok.encode(), value=ov)

    sys.argv = [sys.argv[0], "worker", "-l", "warn"]
    app.main()


if __name__ == "__main__":
    main()
