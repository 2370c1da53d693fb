"""The CACAO condition grammar: STIX-patterning-style comparisons over typed variables.

    condition := or;  or := and ("OR" and)*;  and := not ("AND" not)*;  not := "NOT" not | primary
    primary   := "(" condition ")" | operand [op operand | ["NOT"] "IN" "(" operand ("," operand)* ")"]
    op        := = | != | < | <= | > | >= | LIKE | MATCHES | ISSUBSET | ISSUPERSET
    operand   := __name__[:value] | 'string' | number | true | false

Comparisons follow the left variable's type: numbers numerically, addresses as networks (ISSUBSET
tests containment), strings as text. A condition is parsed once at validation and again at
execution; a parse error names the position."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from typing import Any

from argus.playbooks.limits import MAX_CONDITION
from argus.playbooks.variables import Scope, VariableError

TOKEN = re.compile(
    r"\s*(?:(?P<var>__[a-zA-Z_][a-zA-Z0-9_-]{0,199}__(?::value)?)|'(?P<str>(?:[^'\\]|\\.)*)'"
    r"|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|=|<|>|\(|\)|,)|(?P<word>[A-Za-z]+))"
)
WORDS = {"AND", "OR", "NOT", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "TRUE", "FALSE"}
ADDRESSES = (ipaddress.IPv4Address, ipaddress.IPv6Address, ipaddress.IPv4Network, ipaddress.IPv6Network)
COMPARISONS = {"=", "!=", "<", "<=", ">", ">=", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"}


class ConditionError(ValueError):
    """A condition that does not parse, or refers to a variable that is not declared."""


@dataclasses.dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    at: int


def tokens(text: str) -> list[Tok]:
    if len(text) > MAX_CONDITION:
        raise ConditionError(f"longer than {MAX_CONDITION} characters")
    out, pos = [], 0
    while pos < len(text.rstrip()):
        m = TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ConditionError(f"unexpected {text[pos : pos + 12]!r} at {pos}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "word":
            if value.upper() not in WORDS:
                raise ConditionError(f"unknown word {value!r} at {m.start(kind)}")
            value = value.upper()
        out.append(Tok(kind, value, m.start(kind)))
        pos = m.end()
    return out


class _Parser:
    """Recursive descent to a tree of tuples: ("or", a, b) ("and", a, b) ("not", a)
    ("cmp", op, left, right) ("in", left, [items], negated) ("val", operand)."""

    def __init__(self, text: str) -> None:
        self.toks, self.i, self.depth = tokens(text), 0, 0

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, text: str | None = None) -> Tok:
        tok = self.peek()
        if tok is None or (text is not None and tok.text != text):
            where = f"at {tok.at}" if tok else "at the end"
            raise ConditionError(f"expected {text or 'an operand'} {where}")
        self.i += 1
        return tok

    def parse(self) -> tuple:
        tree = self.expr()
        if self.peek() is not None:
            raise ConditionError(f"unexpected {self.peek().text!r} at {self.peek().at}")  # type: ignore[union-attr]
        return tree

    def expr(self) -> tuple:
        self.depth += 1
        if self.depth > 64:
            raise ConditionError("nested too deeply")
        left = self.conj()
        while self.peek() and self.peek().text == "OR":  # type: ignore[union-attr]
            self.take()
            left = ("or", left, self.conj())
        self.depth -= 1
        return left

    def conj(self) -> tuple:
        left = self.neg()
        while self.peek() and self.peek().text == "AND":  # type: ignore[union-attr]
            self.take()
            left = ("and", left, self.neg())
        return left

    def neg(self) -> tuple:
        if self.peek() and self.peek().text == "NOT":  # type: ignore[union-attr]
            self.take()
            return ("not", self.neg())
        return self.primary()

    def primary(self) -> tuple:
        if self.peek() and self.peek().text == "(":  # type: ignore[union-attr]
            self.take("(")
            inner = self.expr()
            self.take(")")
            return inner
        left = self.operand()
        tok = self.peek()
        if tok is not None and tok.text in COMPARISONS:
            self.take()
            return ("cmp", tok.text, left, self.operand())
        negated = False
        if tok is not None and tok.text == "NOT" and self.i + 1 < len(self.toks) and self.toks[self.i + 1].text == "IN":
            self.take()
            negated = True
        if self.peek() and self.peek().text == "IN":  # type: ignore[union-attr]
            self.take()
            self.take("(")
            items = [self.operand()]
            while self.peek() and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
                items.append(self.operand())
            self.take(")")
            return ("in", left, items, negated)
        return ("val", left)

    def operand(self) -> tuple:
        tok = self.take()
        if tok.kind == "var":
            return ("var", tok.text.removesuffix(":value"))
        if tok.kind == "str":
            return ("lit", re.sub(r"\\(.)", r"\1", tok.text))
        if tok.kind == "num":
            return ("lit", float(tok.text) if "." in tok.text else int(tok.text))
        if tok.text in ("TRUE", "FALSE"):
            return ("lit", tok.text == "TRUE")
        raise ConditionError(f"expected an operand at {tok.at}, found {tok.text!r}")


def parse(text: str) -> tuple:
    return _Parser(text).parse()


def variables(tree: tuple) -> set[str]:
    """Every variable a parsed condition reads (validation checks each is declared)."""
    if tree[0] == "var":
        return {tree[1]}
    found: set[str] = set()
    for part in tree[1:]:
        if isinstance(part, tuple):
            found |= variables(part)
        elif isinstance(part, list):
            for item in part:
                found |= variables(item)
    return found


def evaluate(text: str, scope: Scope) -> bool:
    return bool(_eval(parse(text), scope))


def _eval(tree: tuple, scope: Scope) -> Any:
    kind = tree[0]
    if kind == "or":
        return _eval(tree[1], scope) or _eval(tree[2], scope)
    if kind == "and":
        return _eval(tree[1], scope) and _eval(tree[2], scope)
    if kind == "not":
        return not _eval(tree[1], scope)
    if kind == "val":
        return _truthy(_operand(tree[1], scope))
    if kind == "in":
        left = _operand(tree[1], scope)
        hit = any(_compare("=", left, _operand(item, scope)) for item in tree[2])
        return hit != tree[3]
    return _compare(tree[1], _operand(tree[2], scope), _operand(tree[3], scope))


def _operand(node: tuple, scope: Scope) -> Any:
    if node[0] == "lit":
        return node[1]
    try:
        return scope.get(node[1])
    except VariableError as e:
        raise ConditionError(str(e)) from None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() not in ("", "false", "0")
    return bool(value)


def _compare(op: str, left: Any, right: Any) -> bool:
    left, right = _align(left, right)
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "LIKE":
        pattern = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in str(right))
        return re.fullmatch(pattern, str(left), re.DOTALL) is not None
    if op == "MATCHES":
        return re.search(str(right)[:512], str(left)) is not None
    if op in ("ISSUBSET", "ISSUPERSET"):
        inner, outer = (left, right) if op == "ISSUBSET" else (right, left)
        return _network(inner).subnet_of(_network(outer))  # type: ignore[arg-type]
    try:
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
    except TypeError:
        raise ConditionError(f"cannot order {left!r} and {right!r}") from None


def _align(left: Any, right: Any) -> tuple[Any, Any]:
    """A literal takes the type of the variable it is compared with."""
    for a, b, flip in ((left, right, False), (right, left, True)):
        if isinstance(a, bool) and isinstance(b, str):
            b = b.lower() == "true"
        elif isinstance(a, int | float) and not isinstance(a, bool) and isinstance(b, str):
            try:
                b = float(b)
            except ValueError:
                continue
        elif isinstance(a, ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress._BaseNetwork) and isinstance(
            b, str
        ):
            try:
                b = ipaddress.ip_network(b, strict=False) if "/" in b else ipaddress.ip_address(b)
            except ValueError:
                continue
        else:
            continue
        return (b, a) if flip else (a, b)
    return left, right


def _network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        raise ConditionError(f"{value!r} is not an address or network") from None
