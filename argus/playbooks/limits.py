"""Bounds on what a playbook may be and do, so a hostile one is refused with a reason rather than
exhausting the executor: size, nesting, steps, loop iterations, and how long any one step may wait."""

from __future__ import annotations

MAX_BYTES = 2 * 1024 * 1024  # a playbook document as sent
MAX_DEPTH = 32  # JSON nesting of the document
MAX_STEPS = 2_000
MAX_STRING = 256 * 1024  # any one string, a base64 command included
MAX_CONDITION = 4_096
MAX_ITERATIONS = 1_000  # a while-condition's body, per entry into the loop
MAX_SUBPLAYBOOK_DEPTH = 8  # playbook-action inside playbook-action
MAX_STEP_MS = 24 * 3600 * 1000  # a step without a timeout gets this one
MAX_VALUE = 64 * 1024  # a variable's value once substituted


def depth(doc: object, limit: int = MAX_DEPTH) -> int:
    """The nesting depth of a JSON value, counted without recursion (a hostile document cannot
    exhaust the stack); stops counting past `limit`."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
    return deepest


def longest_string(doc: object) -> int:
    longest, stack = 0, [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            longest = max(longest, len(node))
        elif isinstance(node, dict):
            stack.extend(node.values())
            stack.extend(node.keys())
        elif isinstance(node, list):
            stack.extend(node)
    return longest
