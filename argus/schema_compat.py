"""Avro schema resolution, checked before a producer starts: can a reader with schema R read
data written with schema W? (the Avro specification's "Schema Resolution" rules)

Argus's written rule (argus/avro/README.md) is FULL_TRANSITIVE per subject: a new version must
read every earlier one and be readable by every earlier one. With no registry server to ask,
the runtime checks it itself against every schema ever registered on the bus for the subject,
and refuses to start with the reasons rather than write records some consumer cannot read.
"""

from __future__ import annotations

from typing import Any

RULE = "FULL_TRANSITIVE"  # the rule's name in a schema registry's terms (set on each subject there)
PROMOTIONS = {
    ("int", "long"),
    ("int", "float"),
    ("int", "double"),
    ("long", "float"),
    ("long", "double"),
    ("float", "double"),
    ("string", "bytes"),
    ("bytes", "string"),
}
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
NAMED = ("record", "error", "enum", "fixed")


def _fullname(schema: dict[str, Any], namespace: str | None) -> str:
    name = schema["name"]
    if "." in name:
        return str(name)
    ns = schema.get("namespace", namespace)
    return f"{ns}.{name}" if ns else str(name)


class _Names:
    """Named types of one schema by full name (a later reference is just the name)."""

    def __init__(self, schema: Any) -> None:
        self.types: dict[str, dict[str, Any]] = {}
        self._collect(schema, None)

    def _collect(self, s: Any, ns: str | None) -> None:
        if isinstance(s, list):
            for b in s:
                self._collect(b, ns)
        elif isinstance(s, dict):
            t = s.get("type")
            if t in NAMED:
                full = _fullname(s, ns)
                self.types[full] = s
                inner = full.rpartition(".")[0] or None
                for f in s.get("fields", []):
                    self._collect(f["type"], inner)
            elif t == "array":
                self._collect(s["items"], ns)
            elif t == "map":
                self._collect(s["values"], ns)
            elif isinstance(t, (dict, list)):
                self._collect(t, ns)

    def resolve(self, s: Any, ns: str | None) -> tuple[Any, str | None]:
        """A type as (definition, namespace it sits in): references looked up, wrappers opened."""
        while True:
            if isinstance(s, str) and s not in PRIMITIVES:
                full = s if "." in s or ns is None else f"{ns}.{s}"
                found = self.types.get(full) or self.types.get(s)
                if found is None:
                    raise KeyError(f"unknown named type {s!r}")
                return found, full.rpartition(".")[0] or None
            if isinstance(s, dict) and not isinstance(s.get("type"), str | type(None)):
                s = s["type"]  # {"type": {...}} or {"type": [...]}
                continue
            if isinstance(s, dict) and s.get("type") in PRIMITIVES and len(s) == 1:
                return s["type"], ns
            return s, ns


def _kind(s: Any) -> str:
    if isinstance(s, list):
        return "union"
    if isinstance(s, str):
        return s
    return str(s["type"])


def problems(reader: Any, writer: Any) -> list[str]:
    """Why `reader` cannot read what `writer` wrote ([] if it can)."""
    rn, wn = _Names(reader), _Names(writer)
    out: list[str] = []
    _check(reader, None, rn, writer, None, wn, "", out, set())
    return out


def _check(
    r: Any, rns: str | None, rn: _Names, w: Any, wns: str | None, wn: _Names, at: str, out: list[str], seen: set
) -> bool:
    r, rns = rn.resolve(r, rns)
    w, wns = wn.resolve(w, wns)
    rk, wk = _kind(r), _kind(w)
    where = at or "the record"
    if wk == "union":  # every branch the writer may have used must be readable
        ok = True
        for b in w:
            if not _readable(r, rns, rn, b, wns, wn, seen):
                out.append(f"{where}: the writer's union branch {_label(b)} has no match in the reader's {_label(r)}")
                ok = False
        return ok
    if rk == "union":
        if any(_readable(b, rns, rn, w, wns, wn, seen) for b in r):
            return True
        out.append(f"{where}: the reader's union {_label(r)} has no branch for the writer's {_label(w)}")
        return False
    if rk in PRIMITIVES or wk in PRIMITIVES:
        if rk == wk or (wk, rk) in PROMOTIONS:
            return True
        out.append(f"{where}: the writer's {wk} cannot be read as {rk}")
        return False
    if rk != wk and not (rk in ("record", "error") and wk in ("record", "error")):
        out.append(f"{where}: the writer's {wk} cannot be read as {rk}")
        return False
    if rk == "array":
        return _check(r["items"], rns, rn, w["items"], wns, wn, f"{at}[]", out, seen)
    if rk == "map":
        return _check(r["values"], rns, rn, w["values"], wns, wn, f"{at}{{}}", out, seen)
    rname, wname = _fullname(r, rns), _fullname(w, wns)
    aliases = {a if "." in a else f"{rname.rpartition('.')[0]}.{a}".lstrip(".") for a in r.get("aliases", [])}
    if rname != wname and wname not in aliases:
        out.append(f"{where}: the writer's {wk} {wname} is not the reader's {rname} (names must match)")
        return False
    if rk == "fixed":
        if r["size"] != w["size"]:
            out.append(f"{where}: fixed {rname} is {w['size']} bytes written, {r['size']} read")
            return False
        return True
    if rk == "enum":
        missing = [x for x in w["symbols"] if x not in r["symbols"]]
        if missing and "default" not in r:
            out.append(f"{where}: enum {rname} has no symbol {', '.join(missing)} and no default")
            return False
        return True
    key = (id(r), id(w))
    if key in seen:  # a recursive type, being checked further up: assumed to read until shown not to
        return True
    seen.add(key)
    ok = True
    inner_r, inner_w = rname.rpartition(".")[0] or None, wname.rpartition(".")[0] or None
    wfields = {f["name"]: f for f in w["fields"]}
    for f in r["fields"]:
        path = f"{at}.{f['name']}" if at else f["name"]
        wf = wfields.get(f["name"]) or next((wfields[a] for a in f.get("aliases", []) if a in wfields), None)
        if wf is None:
            if "default" not in f:
                out.append(f"{path}: the reader needs it, the writer does not write it, and it has no default")
                ok = False
            continue
        ok = _check(f["type"], inner_r, rn, wf["type"], inner_w, wn, path, out, seen) and ok
    seen.discard(key)  # checked: a later pairing of the two (another union branch) is judged afresh
    return ok


def _readable(r: Any, rns: str | None, rn: _Names, w: Any, wns: str | None, wn: _Names, seen: set) -> bool:
    """Whether one branch reads; the pairs of records already being checked are shared, so a
    type that refers to itself through a union ends instead of recursing for ever."""
    return _check(r, rns, rn, w, wns, wn, "", [], seen)


def _label(s: Any) -> str:
    if isinstance(s, list):
        return "[" + ", ".join(_label(b) for b in s) + "]"
    if isinstance(s, str):
        return s
    if s.get("type") in NAMED:
        return str(s.get("name"))
    return str(s.get("type"))


def full_problems(new: Any, old: Any, old_name: str) -> list[str]:
    """FULL compatibility of `new` with one earlier version, both ways, each reason said."""
    out = [f"reading {old_name} data: {p}" for p in problems(new, old)]
    out += [f"{old_name} readers reading new data: {p}" for p in problems(old, new)]
    return out
