"""Avro schemas: loaded once from argus/avro/*.avsc, one subject per topic, versioned by file name.

The wire format is Confluent's (magic byte 0, 4-byte big-endian schema id, Avro binary) on both
runtimes, so a record's bytes never depend on where it travelled. A schema id is the CRC-64-AVRO
fingerprint of the self-contained schema folded to 31 bits; the embedded bus persists every id
it has written with its schema text, so old records stay readable after a schema evolves.
"""

from __future__ import annotations

import copy
import io
import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

from argus.schema_compat import full_problems

# Shipped inside the package (argus/avro/), so a wheel installed anywhere finds them.
SCHEMA_DIR = Path(str(resources.files("argus") / "avro"))
# Files of named types that topic schemas refer to, in dependency order. A topic file names the
# generation it is written against under "argus:shared" (pole.v2 adds fields to argus.Person...);
# without that key it uses the first generation, so an old version's schema never changes.
SHARED_FILES = ("envelope.v1.avsc", "pole.v1.avsc", "hit.v1.avsc")
SHARED_KEY = "argus:shared"
SHARED_STEMS = ("envelope", "pole", "hit")
MAGIC = 0
_HEADER = struct.Struct(">bI")
_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


class SchemaError(ValueError):
    """A schema file is missing, malformed, or a datum does not fit its schema."""


def _fullname(schema: dict[str, Any], namespace: str | None) -> str:
    name = schema["name"]
    if "." in name:
        return name
    ns = schema.get("namespace", namespace)
    return f"{ns}.{name}" if ns else name


def inline_named(schema: Any, named: dict[str, Any]) -> Any:
    """Return `schema` with every named reference replaced by its definition at first use.

    The result is self-contained (parseable alone), which is what a registry must store.
    """
    defined: set[str] = set()

    def walk(s: Any, namespace: str | None) -> Any:
        if isinstance(s, str):
            if s in _PRIMITIVES:
                return s
            full = s
            if full not in named and namespace and f"{namespace}.{s}" in named:
                full = f"{namespace}.{s}"
            if full in defined:
                return full
            if full not in named:
                raise SchemaError(f"unknown Avro type {s!r}")
            return walk(copy.deepcopy(named[full]), namespace)
        if isinstance(s, list):
            return [walk(x, namespace) for x in s]
        if isinstance(s, dict):
            t = s.get("type")
            if t in ("record", "error", "enum", "fixed"):
                full = _fullname(s, namespace)
                if full in defined:  # inlined already where it was first referenced
                    return full
                defined.add(full)
                out = dict(s)
                out["name"] = full
                out.pop("namespace", None)
                ns = full.rsplit(".", 1)[0] if "." in full else None
                if t in ("record", "error"):
                    out["fields"] = [dict(f, type=walk(f["type"], ns)) for f in s["fields"]]
                return out
            if t == "array":
                return dict(s, items=walk(s["items"], namespace))
            if t == "map":
                return dict(s, values=walk(s["values"], namespace))
            if isinstance(t, (dict, list)) or (isinstance(t, str) and t not in _PRIMITIVES):
                return dict(s, type=walk(t, namespace))
            return s
        raise SchemaError(f"not an Avro schema: {s!r}")

    return walk(schema, None)


def schema_id_of(canonical: str) -> int:
    """A schema's id in Argus's framing: the CRC-64-AVRO fingerprint of its parsing canonical
    form, folded to 31 bits."""
    return int(fingerprint(canonical, "CRC-64-AVRO"), 16) & 0x7FFFFFFF


def _collect_named(schema: Any, namespace: str | None, into: dict[str, Any]) -> None:
    """Every named type `schema` defines, at its top or nested (argus.Tlp inside the envelope),
    by full name (those not there already), so any schema may refer to any of them."""
    if isinstance(schema, list):
        for x in schema:
            _collect_named(x, namespace, into)
    elif isinstance(schema, dict):
        t = schema.get("type")
        if t in ("record", "error", "enum", "fixed"):
            full = _fullname(schema, namespace)
            into.setdefault(full, dict(schema, name=full))
            ns = full.rsplit(".", 1)[0] if "." in full else None
            for f in schema.get("fields", []):
                _collect_named(f["type"], ns, into)
        elif t == "array":
            _collect_named(schema["items"], namespace, into)
        elif t == "map":
            _collect_named(schema["values"], namespace, into)
        elif isinstance(t, (dict, list)):
            _collect_named(t, namespace, into)


@dataclass(frozen=True)
class TopicSchema:
    """One versioned subject (e.g. rms_record.v1) with its parsed, self-contained schema."""

    name: str
    subject: str
    version: int
    raw: dict[str, Any]

    @cached_property
    def canonical(self) -> str:
        return to_parsing_canonical_form(parse_schema(self.raw))

    @cached_property
    def schema_id(self) -> int:
        return schema_id_of(self.canonical)

    @cached_property
    def parsed(self) -> Any:
        return parse_schema(self.raw)


class SchemaSet:
    """Every schema in a directory, parsed once; also the decoder for any id it has seen."""

    def __init__(self, directory: Path = SCHEMA_DIR) -> None:
        self.directory = directory
        self._named: dict[str, Any] = {}
        self._generations: dict[tuple[str, ...], dict[str, Any]] = {}
        self.topics: dict[str, TopicSchema] = {}
        self._blocks: dict[str, TopicSchema] = {}
        self._by_id: dict[int, Any] = {}
        self._raw_by_id: dict[int, Any] = {}  # each writer's schema as JSON (see envelope)
        self._envelopes: dict[tuple[int, int | None], tuple[Any, Any] | None] = {}
        self._load()

    def _load(self) -> None:
        if not self.directory.is_dir():
            raise SchemaError(f"schema directory {self.directory} not found")
        self._named = self._shared(SHARED_FILES)
        for path in sorted(self.directory.glob("*.avsc")):
            stem = path.name[: -len(".avsc")]
            subject, _, ver = stem.rpartition(".v")
            if subject in SHARED_STEMS:
                continue
            if not subject or not ver.isdigit():
                raise SchemaError(f"{path.name}: schema files are named <subject>.v<N>.avsc")
            doc = self._read(path)
            files = doc.pop(SHARED_KEY, SHARED_FILES) if isinstance(doc, dict) else SHARED_FILES
            raw = inline_named(doc, self._shared(tuple(files)))
            ts = TopicSchema(stem, subject, int(ver), raw)
            try:
                ts.parsed  # noqa: B018 - parse now so a bad file fails at load, not mid-stream
            except Exception as exc:  # fastavro raises several types
                raise SchemaError(f"{path.name}: {exc}") from exc
            self.topics[stem] = ts
            self._by_id[ts.schema_id] = ts.parsed
            self._raw_by_id[ts.schema_id] = ts.raw

    def _shared(self, files: tuple[str, ...]) -> dict[str, Any]:
        """The named types of one generation of shared files, read once."""
        named = self._generations.get(files)
        if named is None:
            named = {}
            for fname in files:
                _collect_named(self._read(self.directory / fname), None, named)
            self._generations[files] = named
        return named

    @staticmethod
    def _read(path: Path) -> Any:
        try:
            return json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise SchemaError(f"schema file {path} not found") from exc
        except json.JSONDecodeError as exc:
            raise SchemaError(f"{path.name}: invalid JSON: {exc}") from exc

    def get(self, name: str) -> TopicSchema:
        try:
            return self.topics[name]
        except KeyError:
            known = ", ".join(sorted(self.topics))
            raise SchemaError(f"unknown schema {name!r}; known: {known}") from None

    def compatibility(self, new: TopicSchema, history: Iterable[tuple[int, str, str]]) -> list[str]:
        """Why `new` may not be produced, given every schema registered before (FULL_TRANSITIVE
        per subject, argus/avro/README.md); [] if it may. An earlier version is judged by its file
        here when there is one, else by the whole schema the bus kept (its defaults matter when
        it is the reader), else by its parsing canonical form (no defaults: stricter, never laxer)."""
        out: list[str] = []
        by_id = {ts.schema_id: ts for ts in self.topics.values()}
        for sid, subject, schema in history:
            if sid == new.schema_id or subject.rpartition(".v")[0] != new.subject:
                continue
            old = by_id.get(sid)
            old_raw = old.raw if old is not None else json.loads(schema)
            name = f"{subject} (schema id {sid})"
            out += [f"{new.name}: {p}" for p in full_problems(new.raw, old_raw, name)]
        return out

    def versions_problems(self) -> list[str]:
        """Every subject's versions in this directory, pairwise, both ways."""
        out: list[str] = []
        by_subject: dict[str, list[TopicSchema]] = {}
        for ts in self.topics.values():
            by_subject.setdefault(ts.subject, []).append(ts)
        for versions in by_subject.values():
            versions.sort(key=lambda t: t.version)
            for i, new in enumerate(versions):
                for old in versions[:i]:
                    out += [f"{new.name}: {p}" for p in full_problems(new.raw, old.raw, old.name)]
        return out

    def block(self, name: str) -> TopicSchema:
        """A named type encoded on its own, as a block inside a record's bytes field (the hits a
        correlation node found, argus.FoundHits), framed and decoded like a topic's records, so
        a node can pass a block on without decoding it and the one that needs it can."""
        ts = self._blocks.get(name)
        if ts is None:
            ts = TopicSchema(name, name, 1, inline_named(name, self._named))
            self._by_id.setdefault(ts.schema_id, ts.parsed)
            self._blocks[name] = ts
        return ts

    def register_writer(self, schema_id: int, canonical: str) -> None:
        """Make records written with an older (or foreign) schema readable."""
        if schema_id not in self._by_id:
            raw = json.loads(canonical)
            self._by_id[schema_id] = parse_schema(raw)
            self._raw_by_id[schema_id] = raw

    def encode(self, schema: TopicSchema, datum: dict[str, Any]) -> bytes:
        buf = io.BytesIO()
        buf.write(_HEADER.pack(MAGIC, schema.schema_id))
        try:
            schemaless_writer(buf, schema.parsed, datum)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
            raise SchemaError(f"record does not fit schema {schema.name}: {type(exc).__name__}: {exc}") from exc
        return buf.getvalue()

    def envelope(self, data: bytes, reader: TopicSchema | None = None) -> dict[str, Any] | None:
        """A record's envelope alone, as `decode(data, reader)["envelope"]` gives it, reading
        only the envelope's bytes where it is the writer's first field (every topic schema's):
        what an ordered node sorts its buffer by, at a tenth of a whole decode, so the buffer
        holds encoded records rather than decoded ones."""
        sid = self._writer_id(data)
        key = (sid, None if reader is None else reader.schema_id)
        if key not in self._envelopes:
            self._envelopes[key] = self._envelope_schemas(sid, reader)
        schemas = self._envelopes[key]
        if schemas is None:  # no leading envelope (decision, purge): read whole, the rare case
            return self.decode(data, reader).get("envelope")
        buf = io.BytesIO(data)
        buf.seek(5)
        try:
            got = schemaless_reader(buf, schemas[0], schemas[1])
        except Exception as exc:  # as decode
            raise SchemaError(f"cannot decode record with schema id {sid}: {str(exc)[:300]}") from exc
        return got["envelope"]  # type: ignore[index,call-overload]

    def _envelope_schemas(self, sid: int, reader: TopicSchema | None) -> tuple[Any, Any] | None:
        """The writer's schema cut after its envelope, and the reader's (None: the writer's own
        envelope will do); None where either does not begin with an envelope."""
        cut = []
        for raw in (self._raw_by_id[sid], None if reader is None else reader.raw):
            if raw is None:
                cut.append(None)
                continue
            fields = raw.get("fields") if isinstance(raw, dict) else None
            if not fields or fields[0].get("name") != "envelope":
                return None
            cut.append(parse_schema({"type": "record", "name": raw["name"], "fields": fields[:1]}))
        return cut[0], cut[1]

    def _writer_id(self, data: bytes) -> int:
        if len(data) < 5:
            raise SchemaError("not an Argus Avro message: shorter than its 5-byte header")
        magic, sid = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise SchemaError(f"not an Argus Avro message: magic byte {magic}")
        if sid not in self._by_id:
            raise SchemaError(f"unknown schema id {sid}")
        return int(sid)

    def decode(self, data: bytes, reader: TopicSchema | None = None) -> dict[str, Any]:
        sid = self._writer_id(data)
        writer = self._by_id[sid]
        buf = io.BytesIO(data)
        buf.seek(5)
        try:
            if reader is None or reader.schema_id == sid:
                return schemaless_reader(buf, writer, None)
            return schemaless_reader(buf, writer, reader.parsed)
        except Exception as exc:  # fastavro raises EOFError, SchemaResolutionError, ...
            raise SchemaError(f"cannot decode record with schema id {sid}: {str(exc)[:300]}") from exc


_DEFAULT: SchemaSet | None = None


def default_schemas() -> SchemaSet:
    """The process-wide SchemaSet: schemas are parsed once, never per record."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = SchemaSet()
    return _DEFAULT
