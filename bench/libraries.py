"""`python -m bench libraries`: where Argus keeps its own code beside a well-kept library, the
measurement that says why, side by side on the same cases and in the same run.

- Avro schema compatibility: argus.schema_compat against Apache avro's checker, on cases whose
  answer the Avro specification gives, and on every pair of the pipeline's schemas.
- Soundex: argus (jellyfish inside) against jellyfish on surnames and random strings.
- Person names: argus.normalize.parse_name (its own fast path, nameparser for the rest) against
  nameparser alone, on names whose last and given name are known.
- Street addresses: argus.normalize.address_key against usaddress tagging with the same table.
- Retries: a record's retry loop against tenacity's, per record that succeeds at once.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from typing import Any

from argus.normalize import _STREET, _UNIT, address_key, parse_name, soundex
from argus.schema_compat import problems
from argus.synthetic import LAST


def _rec(fields: list[dict[str, Any]], name: str = "R", **kw: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "namespace": "argus", "fields": fields, **kw}


def _enum(symbols: list[str], **kw: Any) -> dict[str, Any]:
    return {"name": "e", "type": {"type": "enum", "name": "E", "symbols": symbols, **kw}}


_X = {"type": "record", "name": "X", "fields": [{"name": "v", "type": "int"}]}
_LINKED = [{"name": "v", "type": "int"}, {"name": "next", "type": ["null", "R"], "default": None}]
# (case, reader, writer, whether the reader can read the writer's data per the Avro specification)
SCHEMA_CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    (
        "reader adds a field with a default",
        _rec([{"name": "a", "type": "int"}, {"name": "b", "type": "string", "default": ""}]),
        _rec([{"name": "a", "type": "int"}]),
        True,
    ),
    (
        "reader adds a field without a default",
        _rec([{"name": "a", "type": "int"}, {"name": "b", "type": "string"}]),
        _rec([{"name": "a", "type": "int"}]),
        False,
    ),
    (
        "writer may write null, reader reads string",
        _rec([{"name": "a", "type": "string"}]),
        _rec([{"name": "a", "type": ["null", "string"]}]),
        False,
    ),
    ("int promoted to long", _rec([{"name": "a", "type": "long"}]), _rec([{"name": "a", "type": "int"}]), True),
    ("long read as int", _rec([{"name": "a", "type": "int"}]), _rec([{"name": "a", "type": "long"}]), False),
    ("string read as bytes", _rec([{"name": "a", "type": "bytes"}]), _rec([{"name": "a", "type": "string"}]), True),
    (
        "enum gains a symbol, reader has a default",
        _rec([_enum(["A", "B"], default="A")]),
        _rec([_enum(["A", "B", "C"])]),
        True,
    ),
    ("enum gains a symbol, no default", _rec([_enum(["A", "B"])]), _rec([_enum(["A", "B", "C"])]), False),
    (
        "field renamed, reader alias",
        _rec([{"name": "b", "type": "int", "aliases": ["a"]}]),
        _rec([{"name": "a", "type": "int"}]),
        True,
    ),
    (
        "record renamed, reader alias",
        _rec([{"name": "a", "type": "int"}], name="S", aliases=["R"]),
        _rec([{"name": "a", "type": "int"}]),
        True,
    ),
    (
        "fixed of another size",
        _rec([{"name": "f", "type": {"type": "fixed", "name": "F", "size": 16}}]),
        _rec([{"name": "f", "type": {"type": "fixed", "name": "F", "size": 8}}]),
        False,
    ),
    (
        "nested record, named again by reference",
        _rec([{"name": "x", "type": _X}, {"name": "y", "type": "X"}]),
        _rec([{"name": "x", "type": _X}, {"name": "y", "type": "X"}]),
        True,
    ),
    (
        "array items gain a union branch",
        _rec([{"name": "a", "type": {"type": "array", "items": ["null", "int"]}}]),
        _rec([{"name": "a", "type": {"type": "array", "items": ["null", "int", "string"]}}]),
        False,
    ),
    ("a record that refers to itself", _rec(_LINKED), _rec(_LINKED), True),
]

# (as written, last name, first name) as an NCIC-style record holds them
NAME_CASES = [
    ("GARCIA LOPEZ, JUAN CARLOS", "GARCIA LOPEZ", "JUAN"),
    ("Juan Carlos Garcia", "GARCIA", "JUAN"),
    ("DE LA CRUZ, MARIA", "DE LA CRUZ", "MARIA"),
    ("Maria de la Cruz", "DE LA CRUZ", "MARIA"),
    ("O'BRIEN, PATRICK J", "OBRIEN", "PATRICK"),
    ("Patrick O'Brien", "OBRIEN", "PATRICK"),
    ("SMITH JR, JOHN", "SMITH", "JOHN"),
    ("John Smith Jr.", "SMITH", "JOHN"),
    ("Dr. Jane Doe", "DOE", "JANE"),
    ("Det. Mike Ramos", "RAMOS", "MIKE"),
    ("VAN DER BERG, PIETER", "VAN DER BERG", "PIETER"),
    ("Pieter van der Berg", "VAN DER BERG", "PIETER"),
    ("JOHNSON, A", "JOHNSON", "A"),
    ("Smith, John A.", "SMITH", "JOHN"),
    ("Mary-Kate Olsen", "OLSEN", "MARY-KATE"),
    ("WASHINGTON-SMITH, KEISHA", "WASHINGTON SMITH", "KEISHA"),
    ("Keisha Washington-Smith", "WASHINGTON SMITH", "KEISHA"),
    ("RODRIGUEZ HERNANDEZ, JOSE LUIS", "RODRIGUEZ HERNANDEZ", "JOSE"),
    ("Jose Luis Rodriguez Hernandez", "RODRIGUEZ HERNANDEZ", "JOSE"),
    ("Michael St. John", "ST JOHN", "MICHAEL"),
    ("Ana da Silva", "DA SILVA", "ANA"),
    ("Lee, Min-Jun", "LEE", "MIN-JUN"),
    ("Billy Bob Thornton", "THORNTON", "BILLY"),
    ("nguyen, thi mai", "NGUYEN", "THI"),
]

SAME_PLACE = [
    ("1200 W Main St", "1200 West Main Street"),
    ("1200 W. Main St., Apt 4", "1200 West Main Street Apartment 4"),
    ("455 N Broadway Ave", "455 North Broadway Avenue"),
    ("3100 El Camino Real", "3100 EL CAMINO REAL"),
    ("500 S Figueroa St Ste 200", "500 South Figueroa Street Suite 200"),
    ("12 Oak Ln #3", "12 Oak Lane Apt 3"),
    ("12 Oak Ln Unit 3", "12 Oak Lane #3"),
    ("1600 Pennsylvania Ave NW", "1600 Pennsylvania Avenue Northwest"),
    ("200 1st St", "200 First Street"),
    ("88 Mt Vernon Rd", "88 Mount Vernon Road"),
    ("45 St Charles Ave", "45 Saint Charles Avenue"),
]
OTHER_PLACE = [
    ("1200 W Main St", "1200 E Main St"),
    ("1200 W Main St", "1202 W Main St"),
    ("12 Oak Ln Apt 3", "12 Oak Ln Apt 4"),
    ("77 Ocean Blvd", "77 Ocean Ave"),
]


def _per_call_us(fn: Callable[[], Any], n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1e6


def schemas() -> list[str]:
    import avro.schema
    from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

    from argus.schemas import default_schemas

    def theirs(r: dict[str, Any], w: dict[str, Any]) -> bool:
        res = ReaderWriterCompatibilityChecker().get_compatibility(
            avro.schema.parse(json.dumps(r)), avro.schema.parse(json.dumps(w))
        )
        return res.compatibility is SchemaCompatibilityType.compatible

    def ours(r: dict[str, Any], w: dict[str, Any]) -> bool | None:
        try:
            return not problems(r, w)
        except RecursionError:
            return None

    out = []
    right = {"argus": 0, "avro": 0}
    for case, r, w, want in SCHEMA_CASES:
        got = {"argus": ours(r, w), "avro": theirs(r, w)}
        for k, v in got.items():
            right[k] += v == want
        wrong = [k for k, v in got.items() if v != want]
        if wrong:
            out.append(f"  {case}: {' and '.join(wrong)} disagree with the specification")
    real = [(a.raw, b.raw) for a in default_schemas().topics.values() for b in default_schemas().topics.values()]
    t_ours = _per_call_us(lambda: [problems(r, w) for r, w in real], 3) / len(real)
    t_avro = _per_call_us(lambda: [theirs(r, w) for r, w in real], 3) / len(real)
    n = len(SCHEMA_CASES)
    return [
        f"schema compatibility: argus {right['argus']}/{n}, avro {right['avro']}/{n} right; "
        f"{len(real)} pairs of the pipeline's schemas: argus {t_ours:.0f} us a pair, avro {t_avro:.0f} us",
        *out,
    ]


def names() -> list[str]:
    from nameparser import HumanName

    def norm(s: str) -> list[str]:
        return re.sub(r"[^A-Z ]", "", s.upper().replace("-", " ").replace("'", "")).split()

    def right(last: str, first: str, want_last: str, want_first: str) -> bool:
        return norm(last) == norm(want_last) and norm(first)[:1] == norm(want_first)[:1]

    ours = sum(right(parse_name(r).last, parse_name(r).first, wl, wf) for r, wl, wf in NAME_CASES)
    theirs = sum(right(HumanName(r).last, HumanName(r).first, wl, wf) for r, wl, wf in NAME_CASES)
    rng = random.Random(7)
    stream = [f"{rng.choice(LAST)}, {rng.choice(LAST).title()}{i}" for i in range(5000)]  # each name new
    it = iter(stream)
    t_ours = _per_call_us(lambda: parse_name(next(it)), len(stream))
    it = iter(stream)
    t_np = _per_call_us(lambda: HumanName(next(it)), len(stream))
    n = len(NAME_CASES)
    return [
        f"person names: argus {ours}/{n}, nameparser {theirs}/{n} right; "
        f"an NCIC 'LAST, FIRST' name never seen before: argus {t_ours:.1f} us, nameparser {t_np:.1f} us"
    ]


def phonetic() -> list[str]:
    import jellyfish

    rng = random.Random(3)
    words = [
        *LAST,
        *("".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(1, 12))) for _ in range(20_000)),
    ]
    differ = sum(soundex(w) != jellyfish.soundex(w) for w in words)
    return [f"soundex: argus and jellyfish differ on {differ} of {len(words):,} names (argus calls jellyfish)"]


def addresses() -> list[str]:
    import usaddress

    def tagged(a: str) -> str:
        try:
            tags, _ = usaddress.tag(a)
        except usaddress.RepeatedLabelError:
            return address_key(a) or ""
        keep = ("AddressNumber", "StreetNamePreDirectional", "StreetName", "StreetNamePostType",
                "StreetNamePostDirectional", "OccupancyIdentifier")  # fmt: skip
        words = " ".join(re.sub(r"[^A-Z0-9 ]", " ", tags.get(k, "").upper()) for k in keep).split()
        return " ".join(_STREET.get(w, w) for w in words if w not in _UNIT)

    out = []
    for name, key in (("argus", lambda a: address_key(a) or ""), ("usaddress", tagged)):
        same = sum(key(a) == key(b) for a, b in SAME_PLACE)
        apart = sum(key(a) != key(b) for a, b in OTHER_PLACE)
        us = _per_call_us(lambda k=key: [k(a) for pair in SAME_PLACE for a in pair], 200) / (2 * len(SAME_PLACE))
        out.append(f"{name} {same}/{len(SAME_PLACE)} same, {apart}/{len(OTHER_PLACE)} apart, {us:.1f} us")
    return ["street addresses (usaddress tagging, then the same table): " + "; ".join(out)]


def retries() -> list[str]:
    from tenacity import Retrying, retry_if_not_exception_type, stop_after_attempt, wait_exponential

    def work() -> int:
        return 1

    def loop() -> int:
        attempt = 0
        while True:
            attempt += 1
            try:
                return work()
            except Exception:
                if attempt > 2:
                    raise

    policy = Retrying(
        stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.01, max=2),
        retry=retry_if_not_exception_type(ValueError), reraise=True,
    )  # fmt: skip
    n = 100_000
    return [
        f"a record's retry loop, per record that succeeds at once: argus {_per_call_us(loop, n):.2f} us, "
        f"tenacity {_per_call_us(lambda: policy(work), n):.2f} us"
    ]


def main(argv: list[str] | None = None) -> None:
    for part in (schemas, names, phonetic, addresses, retries):
        for line in part():
            print(line, flush=True)


if __name__ == "__main__":
    main()
