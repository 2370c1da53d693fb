"""CACAO variables, typed as the specification says: a value travels as a string in the document and
is parsed by its declared type (an integer compares as a number, an ipv4-addr as an address or
network), scoped per playbook and per step, with `constant` and `external` honoured.

Substitution of `__name__:value` into commands is one pass over the original text: a value that
itself contains a reference is never expanded again, so a variable cannot inject a template."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import uuid
from typing import Any
from urllib.parse import urlparse

import orjson

from argus.playbooks.limits import MAX_VALUE

NAME = re.compile(r"^__[a-zA-Z_][a-zA-Z0-9_-]{0,199}__$")
REFERENCE = re.compile(r"__[a-zA-Z_][a-zA-Z0-9_-]{0,199}__(?::value)?")
TYPES = (
    "bool", "dictionary", "float", "hexstring", "integer", "ipv4-addr", "ipv6-addr", "list", "long",
    "mac-addr", "hash", "md5-hash", "sha256-hash", "string", "uri", "uuid",
)  # fmt: skip
HEX = re.compile(r"^[0-9a-fA-F]*$")
MAC = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")
INT32, INT64 = 2**31, 2**63


class VariableError(ValueError):
    """A value that is not what its variable's type says, or a write the variable refuses."""


def parse(kind: str, raw: Any) -> Any:
    """The typed value of `raw` (a string from the document, or an already typed value)."""
    if raw is None:
        return None
    if isinstance(raw, str) and len(raw) > MAX_VALUE:
        raise VariableError(f"longer than {MAX_VALUE} characters")
    try:
        return _PARSERS.get(kind, _string)(raw)
    except (ValueError, TypeError, orjson.JSONDecodeError) as e:
        raise VariableError(f"{str(raw)[:60]!r} is not a valid {kind}: {e}") from None


def render(value: Any) -> str:
    """The text a typed value takes when substituted into a command or condition."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


def _string(raw: Any) -> str:
    return raw if isinstance(raw, str) else render(raw)


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if str(raw).lower() in ("true", "false"):
        return str(raw).lower() == "true"
    raise ValueError("true or false")


def _integer(bound: int):
    def parse_int(raw: Any) -> int:
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError("a whole number")
        n = int(raw)
        if not -bound <= n < bound:
            raise ValueError(f"outside the {bound.bit_length()}-bit range")
        return n

    return parse_int


def _float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError("a number")
    return float(raw)


def _json(kind: type):
    def parse_json(raw: Any) -> Any:
        value = raw if isinstance(raw, kind) else orjson.loads(raw)
        if not isinstance(value, kind):
            raise ValueError(f"a JSON {kind.__name__}")
        return value

    return parse_json


def _pattern(rx: re.Pattern[str], length: int | None = None):
    def parse_text(raw: Any) -> str:
        text = str(raw)
        if not rx.match(text) or (length is not None and len(text) != length):
            raise ValueError("wrong form")
        return text

    return parse_text


def _address(version: int):
    def parse_address(raw: Any) -> Any:
        text = str(raw)
        net = ipaddress.ip_network(text, strict=False) if "/" in text else ipaddress.ip_address(text)
        if net.version != version:
            raise ValueError(f"not IPv{version}")
        return net

    return parse_address


def _uri(raw: Any) -> str:
    parsed = urlparse(str(raw))
    if not parsed.scheme:
        raise ValueError("no scheme")
    return str(raw)


_PARSERS = {
    "bool": _bool,
    "dictionary": _json(dict),
    "float": _float,
    "hexstring": _pattern(HEX),
    "integer": _integer(INT32),
    "long": _integer(INT64),
    "ipv4-addr": _address(4),
    "ipv6-addr": _address(6),
    "list": _json(list),
    "mac-addr": _pattern(MAC),
    "hash": _pattern(HEX),
    "md5-hash": _pattern(HEX, 32),
    "sha256-hash": _pattern(HEX, 64),
    "uri": _uri,
    "uuid": lambda raw: str(uuid.UUID(str(raw))),
}


@dataclasses.dataclass
class Variable:
    name: str
    type: str
    value: Any
    constant: bool = False
    external: bool = False
    description: str = ""

    @classmethod
    def of(cls, name: str, spec: dict[str, Any]) -> Variable:
        kind = str(spec.get("type", "string"))
        return cls(name, kind, parse(kind, spec.get("value")), bool(spec.get("constant")),
                   bool(spec.get("external")), str(spec.get("description", "")))  # fmt: skip


class Scope:
    """One level of variables (a playbook's, a step's) over its parent's: a name resolves at the
    nearest level that declares it, and a write lands there too."""

    def __init__(self, declared: dict[str, dict[str, Any]] | None, parent: Scope | None = None) -> None:
        self.vars = {name: Variable.of(name, spec) for name, spec in (declared or {}).items()}
        self.parent = parent

    def find(self, name: str) -> Variable | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        return None

    def get(self, name: str) -> Any:
        var = self.find(name)
        if var is None:
            raise VariableError(f"{name} is not declared")
        return var.value

    def set(self, name: str, value: Any, *, initial: bool = False) -> None:
        """Assign a typed value; a constant refuses unless this is its initial binding from outside."""
        var = self.find(name)
        if var is None:
            raise VariableError(f"{name} is not declared")
        if var.constant and not initial:
            raise VariableError(f"{name} is constant")
        var.value = parse(var.type, value)

    def bind_external(self, values: dict[str, Any]) -> None:
        """Values from a trigger, a caller or a parent playbook, for variables marked `external`."""
        for name, value in values.items():
            var = self.find(name)
            if var is None or not var.external:
                raise VariableError(f"{name} is not an external variable of this playbook")
            self.set(name, value, initial=True)

    def snapshot(self) -> dict[str, str]:
        """Every visible variable as text, nearest level winning: what a trace records."""
        chain, scope = [], self
        while scope is not None:
            chain.append(scope)
            scope = scope.parent
        out: dict[str, str] = {}
        for level in reversed(chain):
            out.update({n: render(v.value) for n, v in level.vars.items()})
        return out

    def substitute(self, text: str) -> str:
        """Every `__name__:value` replaced by its value's text, in one pass; unknown names stay."""

        def value_of(m: re.Match[str]) -> str:
            var = self.find(m.group(0).removesuffix(":value"))
            return m.group(0) if var is None else render(var.value)

        return REFERENCE.sub(value_of, text)

    def substitute_json(self, doc: Any) -> Any:
        """Substitution inside each string of a parsed JSON document, so a value lands as data and
        can never change the document's structure."""
        if isinstance(doc, str):
            return self.substitute(doc)
        if isinstance(doc, list):
            return [self.substitute_json(v) for v in doc]
        if isinstance(doc, dict):
            return {k: self.substitute_json(v) for k, v in doc.items()}
        return doc
