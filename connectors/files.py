"""Reading records from a file or a watched folder, resumably.

The cursor is a byte offset per file (a record index for whole-JSON files), kept in the
connector's state and set *before* the record it covers is yielded, so the runtime commits
cursor and records together: a restart resumes at the first record not yet committed.
In watch mode a line without its newline is left until the writer finishes it, or until the
file has not changed for `settle_seconds` (a last line written without one). A CSV record may
span lines inside a quoted field. Whatever goes wrong with one record (it does not parse, does
not validate, or breaks the converter in a way nobody foresaw) dead-letters that record with the
reason, and the records after it carry on.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import time
from abc import abstractmethod
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import Field

from argus.contracts import Connector, Context, DeadLetterRecord, NodeConfig
from argus.records import Handling, InvalidRecord, Record, as_bytes, deterministic_id, make_envelope, parse_handling


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

    def _settled(self, f: Path) -> bool:
        """Not written to for `settle_seconds`: a last line without its newline is complete."""
        try:
            return not self.config.watch or time.time() - f.stat().st_mtime >= self.config.settle_seconds
        except OSError:
            return False

    def _lines(self, f: Path, key: str, pos: int, ctx: Context) -> Iterator[Record | DeadLetterRecord]:
        limit = self.config.max_record_bytes
        is_csv = self.config.format == "csv"
        with f.open("rb") as fh:
            header: list[str] | None = None
            if is_csv:
                first = fh.readline()
                if not first.endswith(b"\n") and not self._settled(f):
                    return
                header = next(csv.reader([first.decode("utf-8-sig", "replace")]), [])
                pos = max(pos, fh.tell())
            fh.seek(pos)
            while True:
                line = fh.readline(limit + 1)
                while is_csv and line.count(b'"') % 2 == 1 and len(line) <= limit:
                    more = fh.readline(limit + 1 - len(line))  # a newline inside a quoted field
                    if not more:
                        break
                    line += more
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
                if not line.endswith(b"\n") and not self._settled(f):
                    return  # the writer has not finished this line
                start, pos = pos, fh.tell()
                ctx.state.put(key, pos)
                if not line.strip():
                    continue
                source = f"{f.name}@{start}"
                try:
                    text = line.decode("utf-8").removeprefix("\ufeff")
                except UnicodeDecodeError as exc:
                    yield DeadLetterRecord(f"not UTF-8: {exc}", line, source)
                    continue
                yield self._convert_line(text, header, line, source, ctx)

    def _convert_line(
        self, text: str, header: list[str] | None, line: bytes, source: str, ctx: Context
    ) -> Record | DeadLetterRecord:
        try:
            if header is not None:
                row = next(csv.reader(io.StringIO(text)))
                if len(row) != len(header):
                    raise InvalidRecord(f"CSV row has {len(row)} columns, header has {len(header)}")
                raw: Any = self.from_csv(dict(zip(header, row, strict=True)))
            else:
                raw = orjson.loads(text)
            return self.convert(raw, ctx)
        except orjson.JSONDecodeError as exc:
            return DeadLetterRecord(f"malformed JSON: {exc}", line, source)
        except InvalidRecord as exc:
            return DeadLetterRecord(str(exc), line, source)
        except Exception as exc:  # one record's failure, whatever it is, is that record's alone
            return DeadLetterRecord(f"invalid record: {type(exc).__name__}: {str(exc)[:300]}", line, source)

    def _json_file(self, f: Path, key: str, pos: int, ctx: Context) -> Iterator[Record | DeadLetterRecord]:
        data = f.read_bytes()
        limit = self.config.max_record_bytes * 64
        if len(data) > limit:
            ctx.state.put(key, -1)
            yield DeadLetterRecord(f"file over {limit} bytes; it stays at {f}", data[:65536], f.name)
            return
        try:
            doc = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
            items = self.split_document(doc)
        except (orjson.JSONDecodeError, InvalidRecord) as exc:
            if self.config.watch and time.time() - f.stat().st_mtime < self.config.settle_seconds:
                return  # probably still being written; look again on a later poll
            ctx.state.put(key, -1)
            why = f"malformed JSON: {exc}" if isinstance(exc, orjson.JSONDecodeError) else str(exc)
            yield DeadLetterRecord(why, data, f.name)  # the whole file, so it can be replayed
            return
        for i in range(pos, len(items)):
            ctx.state.put(key, i + 1 if i + 1 < len(items) else -1)
            item = items[i]
            try:
                yield self.convert(item, ctx)
            except InvalidRecord as exc:
                yield DeadLetterRecord(str(exc), as_bytes(item), f"{f.name}#{i}")
            except Exception as exc:  # one record's failure, whatever it is, is that record's alone
                why = f"invalid record: {type(exc).__name__}: {str(exc)[:300]}"
                yield DeadLetterRecord(why, as_bytes(item), f"{f.name}#{i}")
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
