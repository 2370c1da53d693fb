"""The official CACAO v2.0 JSON schemas (Apache-2.0, shipped in schemas/ with their licence), read
as draft 2020-12 with every `$ref` resolved from the package, never from the network."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).with_name("schemas")
BASE = "https://raw.githubusercontent.com/oasis-open/cacao-json-schemas/main/schemas/"


@cache
def registry() -> Registry:
    """Every schema under its `$id`, read as 2020-12: the files say draft-07 but use
    `unevaluatedProperties`, which only 2019-09 and later define."""
    resources = []
    for path in sorted(ROOT.rglob("*.json")):
        body = json.loads(path.read_text())
        resources.append((body["$id"], Resource(contents=body, specification=DRAFT202012)))
    return Registry().with_resources(resources)


@cache
def validator(name: str = "playbook.json") -> Draft202012Validator:
    """The validator for one schema file (relative to schemas/), `$ref`s resolved in the registry."""
    body = json.loads((ROOT / name).read_text())
    schema = {k: v for k, v in body.items() if k != "$schema"}
    return Draft202012Validator(schema, registry=registry())


def schema_errors(doc: Any, name: str = "playbook.json") -> list[tuple[list[str | int], str]]:
    """(path, message) for each place the document breaks the schema, deepest cause first."""
    out = []
    for error in sorted(validator(name).iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        leaf = min(_leaves(error), key=lambda e: len(e.message))
        out.append((list(leaf.absolute_path), leaf.message))
    return out


def _leaves(error: Any) -> list[Any]:
    if not error.context:
        return [error]
    return [leaf for sub in error.context for leaf in _leaves(sub)]
