"""Reading records from a file or a watched folder, resumably.

The cursor is a byte offset per file (a record index for whole-JSON files), kept in the
connector's state and set *before* the record it covers is yielded, so the runtime commits
cursor and records together: a restart resumes at the first record not yet committed.
In watch mode a line without its newline is left until the writer finishes it.
"""

from __future__ import annotations

import csv
import fnmatch
import time
from abc import abstractmethod
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import Field

from argus.contracts import Connector, Context, DeadLetterRecord, NodeConfig
from argus.records import Handling, InvalidRecord, Record, deterministic_id, make_envelope, parse_handling


class FileSourceConfig(NodeConfig):
    path: str = Field(description="A file, or a folder whose matching files are read in name order")
    format: Literal["jsonl", "csv", "json"] = "jsonl"
    pattern: str = "*"
    watch: bool = Field(default=False, description="Keep polling for new lines and new files")
    poll_interval: float = Field(default=0.25, gt=0, le=60)
    max_record_bytes: int = Field(default=1_048_576, ge=1024)
    settle_seconds: float = Field(
        default=2.0,
        ge=0,
        description="Watch mode: a whole-JSON file that does not parse is "
        "taken as still being written until unchanged this long",
    )
    default_tlp: str | None = None
    default_reliability: str | None = None
    default_validity: int | None = None
    law_enforcement: bool = Field(
        default=True,
        description="Whether the agencies whose records this source carries are law-enforcement agencies "
        "(an RMS, CAD or an agency's SAR intake): criminal intelligence reaches them only if so",
    )


class FileSourceConnector(Connector):
    Config = FileSourceConfig
    config: FileSourceConfig

    @abstractmethod
    def convert(self, raw: Any, ctx: Context) -> Record:
        """Validate one parsed input record into an Avro record; raise InvalidRecord."""

    def files(self) -> list[Path]:
        p = Path(self.config.path)
        if p.is_dir():
            return sorted(
                f
                for f in p.iterdir()
                if f.is_file() and fnmatch.fnmatch(f.name, self.config.pattern) and not f.name.startswith(".")
            )
        if p.exists():
            return [p]
        if self.config.watch:
            return []
        raise FileNotFoundError(f"{self.name}: input {p} does not exist")

    @staticmethod
    def _cursor_key(f: Path) -> str:
        """Where a file's cursor is kept in state: a byte offset, or -1 once a whole-JSON file is read."""
        return f"f:{f.name}"

    def ready(self, ctx: Context) -> bool:
        """A file grown past its cursor, or a new one (a whole-JSON file read is marked done).
        A line still being written counts too: `run()` then finds nothing, as it always did."""
        try:
            for f in self.files():
                pos = ctx.state.get(self._cursor_key(f), 0)
                if pos != -1 and f.stat().st_size > pos:
                    return True
        except OSError:
            return True  # gone or unreadable meanwhile: run() says what
        return False

    def run(self, ctx: Context) -> Iterator[Record | DeadLetterRecord]:
        for f in self.files():
            key = self._cursor_key(f)
            pos = ctx.state.get(key, 0)
            if pos == -1:  # a whole-JSON file already read
                continue
            if self.config.format == "json":
                yield from self._json_file(f, key, pos, ctx)
            else:
                yield from self._lines(f, key, pos, ctx)

    def _lines(self, f: Path, key: str, pos: int, ctx: Context) -> Iterator[Record | DeadLetterRecord]:
        limit = self.config.max_record_bytes
        with f.open("rb") as fh:
            header: list[str] | None = None
            if self.config.format == "csv":
                first = fh.readline()
                if not first.endswith(b"\n") and self.config.watch:
                    return
                header = next(csv.reader([first.decode("utf-8-sig", "replace")]), [])
                pos = max(pos, fh.tell())
            fh.seek(pos)
            while True:
                line = fh.readline(limit + 1)
                if not line:
                    return
                if len(line) > limit and not line.endswith(b"\n"):
                    # Skip the rest of an oversized line; keep only a prefix as evidence.
                    while True:
                        more = fh.readline(limit)
                        if not more or more.endswith(b"\n"):
                            break
                    ctx.state.put(key, fh.tell())
                    yield DeadLetterRecord(f"record over {limit} bytes", line[:65536], f"{f.name}@{pos}")
                    pos = fh.tell()
                    continue
                if not line.endswith(b"\n") and self.config.watch:
                    return  # the writer has not finished this line
                start, pos = pos, fh.tell()
                ctx.state.put(key, pos)
                if not line.strip():
                    continue
                source = f"{f.name}@{start}"
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield DeadLetterRecord(f"not UTF-8: {exc}", line, source)
                    continue
                try:
                    if header is not None:
                        row = next(csv.reader([text]))
                        if len(row) != len(header):
                            raise InvalidRecord(f"CSV row has {len(row)} columns, header has {len(header)}")
                        raw: Any = self.from_csv(dict(zip(header, row, strict=True)))
                    else:
                        raw = orjson.loads(line)
                    yield self.convert(raw, ctx)
                except orjson.JSONDecodeError as exc:
                    yield DeadLetterRecord(f"malformed JSON: {exc}", line, source)
                except InvalidRecord as exc:
                    yield DeadLetterRecord(str(exc), line, source)
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    yield DeadLetterRecord(f"invalid record: {type(exc).__name__}: {exc}", line, source)

    def _json_file(self, f: Path, key: str, pos: int, ctx: Context) -> Iterator[Record | DeadLetterRecord]:
        data = f.read_bytes()
        if len(data) > self.config.max_record_bytes * 64:
            ctx.state.put(key, -1)
            yield DeadLetterRecord(f"file over {self.config.max_record_bytes * 64} bytes", data[:65536], f.name)
            return
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if self.config.watch and time.time() - f.stat().st_mtime < self.config.settle_seconds:
                return  # probably still being written; look again on a later poll
            ctx.state.put(key, -1)
            yield DeadLetterRecord(f"malformed JSON: {exc}", data[:65536], f.name)
            return
        items = self.split_document(doc)
        for i in range(pos, len(items)):
            ctx.state.put(key, i + 1 if i + 1 < len(items) else -1)
            item = items[i]
            try:
                yield self.convert(item, ctx)
            except InvalidRecord as exc:
                yield DeadLetterRecord(str(exc), orjson.dumps(item), f"{f.name}#{i}")
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                yield DeadLetterRecord(
                    f"invalid record: {type(exc).__name__}: {exc}", orjson.dumps(item), f"{f.name}#{i}"
                )
        if not items:
            ctx.state.put(key, -1)

    def handling(self, raw: dict[str, Any], **kwargs: Any) -> Handling:
        """Agency, TLP and ratings of one input record, with this connector's defaults."""
        cfg = self.config
        return parse_handling(
            raw,
            default_reliability=cfg.default_reliability,
            default_validity=cfg.default_validity,
            default_tlp=cfg.default_tlp,
            law_enforcement=cfg.law_enforcement,
            **kwargs,
        )

    def split_document(self, doc: Any) -> list[Any]:
        """A JSON file holds one record or a list of them."""
        return doc if isinstance(doc, list) else [doc]

    def from_csv(self, row: dict[str, str]) -> dict[str, Any]:
        raise InvalidRecord(f"{type(self).__name__} does not read CSV")


def emit_record(
    ctx: Context,
    source: str,
    *,
    id_parts: tuple[str, ...],
    rtype: str,
    handling: Handling,
    observed_at: datetime,
    body: dict[str, Any],
    key: str | None = None,
) -> Record:
    """A validated input record as the pipeline carries it: deterministic id, envelope, body.
    Keyed by its id unless the source keys it by what it is about (queries: the plate)."""
    rid = deterministic_id(*id_parts)
    env = make_envelope(
        record_id=rid,
        rtype=rtype,
        handling=handling,
        source_system=source,
        observed_at=observed_at,
        ingested_at=ctx.now(),
        trace_id=ctx.new_id(),
    )
    return Record({"envelope": env, "body": body}, key=key or rid)
