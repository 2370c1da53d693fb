"""Each part of the runtime (scheduler, processing, sources, answers, committer, sink thread, task
lifecycle) can be read on its own: what it uses of the others is declared at the top of its class,
that list is whole, every entry is something the composed runtime provides, and none is stale."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from argus.runtime.answers import Answers
from argus.runtime.committer import Committer
from argus.runtime.core import Runtime
from argus.runtime.processing import Processing
from argus.runtime.recovery import TaskLifecycle
from argus.runtime.scheduler import Scheduler
from argus.runtime.sink_thread import SinkThread
from argus.runtime.sources import Sources
from argus.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
PARTS = [Scheduler, Processing, Sources, Answers, Committer, SinkThread, TaskLifecycle]


def _class_node(cls: type) -> ast.ClassDef:
    tree = ast.parse(Path(inspect.getsourcefile(cls) or "").read_text())
    return next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__)


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def declared(cls: type) -> tuple[set[str], set[str]]:
    """(attributes, methods) the part says it uses of the others."""
    node = _class_node(cls)
    attrs = {n.target.id for n in node.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    stubs = {
        f.name for n in node.body if _is_type_checking(n) for f in n.body if isinstance(f, ast.FunctionDef)
    }  # fmt: skip
    return attrs, stubs


def own_and_used(cls: type) -> tuple[set[str], set[str]]:
    """(what the part defines or assigns itself, every `self.<name>` it reads or writes)."""
    node = _class_node(cls)
    methods = {f.name for f in node.body if isinstance(f, ast.FunctionDef)}
    assigned: set[str] = set()
    used: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self":
            used.add(n.attr)
            if isinstance(n.ctx, ast.Store):
                assigned.add(n.attr)
    return methods | assigned, used


@pytest.mark.parametrize("part", PARTS, ids=lambda c: c.__name__)
def test_what_a_part_uses_of_the_others_is_declared_whole_and_nothing_stale(part: type) -> None:
    attrs, stubs = declared(part)
    own, used = own_and_used(part)
    undeclared = used - own - attrs - stubs
    assert not undeclared, f"{part.__name__} uses {sorted(undeclared)} of another part without declaring it"
    stale = (attrs | stubs) - used
    assert not stale, f"{part.__name__} declares {sorted(stale)} but does not use them"
    assert not (attrs | stubs) & own, f"{part.__name__} declares what it defines itself"


@pytest.mark.parametrize("part", PARTS, ids=lambda c: c.__name__)
def test_what_a_part_declares_the_composed_runtime_provides(part: type, tmp_path: Path) -> None:
    attrs, stubs = declared(part)
    for name in stubs:
        provider = next((c for c in Runtime.__mro__ if name in vars(c)), None)
        assert provider is not None and provider is not part, f"nothing provides {part.__name__}'s {name}()"
        assert callable(getattr(Runtime, name))
    runtime = Runtime(load_topology(ROOT / "topology.yaml", tmp_path))  # not opened: what __init__ sets
    missing = [a for a in sorted(attrs) if not hasattr(runtime, a)]
    assert not missing, f"the runtime does not set {missing}, which {part.__name__} uses"
