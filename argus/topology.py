"""topology.yaml: the one wiring file. Loaded into typed models and checked before anything runs.

`argus check` runs `load_topology` + `check`: unknown keys, unknown node types, node configs
that do not validate, topics without schemas, inputs nobody produces, and schemas a node
cannot read are all reported together with where they are.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from argus.bus.base import TopicSpec
from argus.registry import BACKENDS, RegistryError, backend_class, node_class, role_of
from argus.runtime.order_plan import plan_order
from argus.runtime.tasks import colocation_path, partitioned
from argus.schemas import SchemaError, SchemaSet, default_schemas
from argus.topology_error import TopologyError

STORE_KINDS = tuple(k for k in BACKENDS if k != "bus")  # graph, search, stix, feeds, audit, identity, taxii
DEAD_LETTER_SCHEMA = "dead_letter.v1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TopicModel(_Strict):
    schema_: str = Field(alias="schema")
    partitions: int = Field(default=4, ge=1, le=256)
    priority: Literal["normal", "high"] = "normal"
    # Applied by the bus to the topic, created or already there (argus/bus/base.py, TopicSpec).
    compacted: bool = False
    retention_hours: int | None = Field(default=None, ge=1)
    # Written from outside the pipeline (the API, the CLI): no node has to produce it.
    external: bool = False

    def spec(self, name: str) -> TopicSpec:
        """What the bus makes of it."""
        return TopicSpec(name, self.partitions, self.schema_, self.compacted, self.retention_hours, self.priority)


class ErrorPolicy(_Strict):
    retries: int = Field(default=2, ge=0, le=20)
    backoff_ms: int = Field(default=10, ge=0)
    max_backoff_ms: int = Field(default=2000, ge=0)


class NodeModel(_Strict):
    use: str
    inputs: list[str] = []
    outputs: list[str] = []
    config: dict[str, Any] = {}
    batch_size: int = Field(default=500, ge=1, le=100_000)
    error_policy: ErrorPolicy = ErrorPolicy()
    # Run in the same worker as this node, always (argus/runtime/tasks.py, units): a group
    # assigns the two as one. For a node answering the field-query lane in process
    # (answer_in_process), so no assignment puts a hop through the bus between them.
    colocate_with: str | None = None
    # Which of two processes sharing the embedded bus runs the node (`argus run --part`):
    # "alerts" (the default for connectors and processors) or "stores" (the default for sinks).
    # A node joined to another by colocate_with runs where that one runs.
    part: Literal["alerts", "stores"] | None = None


class TaxiiCollection(_Strict):
    """A TAXII collection: a view over the STIX object store, with who may read and write it
    ("*": every agency). The policy still decides, object by object, what a reader gets."""

    id: str = Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    title: str
    description: str = ""
    types: list[str] = []  # only these STIX types (empty: all)
    agencies: list[str] = []  # only objects from these agencies (empty: all)
    read: list[str] = ["*"]
    write: list[str] = []

    def can_read(self, agency: str) -> bool:
        return "*" in self.read or agency in self.read

    def can_write(self, agency: str) -> bool:
        return "*" in self.write or agency in self.write


class TaxiiModel(_Strict):
    title: str = "Argus TAXII 2.1"
    api_root: str = Field(default="argus", pattern=r"^[a-z0-9][a-z0-9_-]*$")
    max_content_length: int = Field(default=100 * 1024 * 1024, ge=1024)
    collections: list[TaxiiCollection] = []

    def collection(self, cid: str) -> TaxiiCollection | None:
        return next((c for c in self.collections if c.id == cid), None)


class OidcModel(_Strict):
    """The identity provider the workbench logs people in with (authorization code flow with PKCE,
    run by the API so no token reaches the browser). The client secret, for a confidential
    client, is read from the environment variable named here, never from this file."""

    issuer: str = Field(pattern=r"^https?://[^\s]+$")
    client_id: str = Field(min_length=1, max_length=256)
    client_secret_env: str = "ARGUS_OIDC_CLIENT_SECRET"
    subject_claim: str = "sub"  # the claim naming the directory's subject id (e.g. preferred_username)
    scope: str = "openid"
    label: str = "your identity provider"  # the login button says "Log in with <label>"
    # where the issuer sends the browser back; default: this API's own .../session/oidc/callback
    redirect_uri: str | None = Field(default=None, pattern=r"^https?://[^\s]+/api/v1/session/oidc/callback$")


class ApiModel(_Strict):
    """`argus api`'s settings that belong to the site, not to a process's command line."""

    # Browsers may call the API from these origins only (scheme://host[:port]); empty: from none
    # but the API's own (the workbench it serves). Never "*": the API answers with credentials.
    cors_origins: list[str] = Field(default_factory=list)
    # A workbench session ends after this long without a request, and this long after login
    # whatever the activity (OWASP's session guidance: minutes idle, hours absolute).
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=7 * 24)
    # A site's own tile server for the workbench's maps ({z}/{x}/{y}); none: the offline basemap
    # of state and county boundaries shipped with the workbench, so no request leaves the origin.
    oidc: OidcModel | None = None
    tile_url: str | None = Field(default=None, pattern=r"^https?://[^\s\"'<>]+\{z\}/\{x\}/\{y\}[^\s\"'<>]*$")
    # Whether every user needs a current record of each enforced course (28 CFR 23 for criminal
    # intelligence, ISE-SAR for SAR vetting) before the access it gates. Off: only a recorded
    # course that has expired removes that access (argus/workflows/training.py).
    training_required: bool = False

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, v: list[str]) -> list[str]:
        for o in v:
            if o == "*" or not re.match(r"^https?://[^/\s]+$", o):
                raise ValueError(f"{o!r}: an origin is scheme://host[:port], and never *")
        return v


class TopologyModel(_Strict):
    name: str = "argus"
    data_dir: str = "var/argus"
    bus: str | None = None
    stores: dict[str, str] = {}
    metrics_port: int | None = Field(default=9464, ge=0, le=65535)
    # Where /metrics listens: loopback by default; 0.0.0.0 (or an interface's address) for a
    # Prometheus on another host or container (the compose stack sets ARGUS_METRICS_HOST).
    metrics_host: str = "127.0.0.1"
    dead_letter_topic: str = "deadletters"
    # How long a task with input still waiting may gather batches into one commit (ms); unset:
    # the bus's own default (Kafka 100, where a transaction costs round trips; embedded 0).
    commit_interval_ms: int | None = Field(default=None, ge=0, le=60_000)
    # Threads committing ingest batches while the scheduler runs other tasks (argus/runtime/
    # committer.py, _commit), on a bus whose commits can run side by side (Kafka). 0: in place.
    # More ingest per second under load, and slower field queries on a small machine: for
    # backfills and replays, not for a worker answering the field.
    commit_threads: int = Field(default=0, ge=0, le=16)
    # A field query's answer goes straight on to the next node of the query lane when that node
    # runs in the same process and answers without changing its state (correlation): one
    # transaction carries the answer and the alert, one hop fewer (argus/runtime/answers.py,
    # _answer_here). Off: every hop goes through the bus.
    answer_in_process: bool = True
    # A source marks its place after this many records (argus/runtime/order.py): how much an
    # ordered node (entity resolution, correlation) may buffer of one source at a time.
    order_mark_every: int = Field(default=1000, ge=1, le=1_000_000)
    # A Kafka worker whose commit has not returned in this many seconds ends itself (exit 75) for
    # its supervisor to restart: a librdkafka hang (argus/runtime/worker.py, _watch_commits).
    # Above the bus's 30 s limit on any one call, so a slow broker alone does not set it off.
    commit_hang_s: float = Field(default=90.0, gt=0, le=3600)
    include: list[str] = []
    topics: dict[str, TopicModel] = {}
    nodes: dict[str, NodeModel] = {}
    taxii: TaxiiModel = TaxiiModel()
    api: ApiModel = ApiModel()


class Topology:
    """A loaded, merged topology with resolved paths and URLs (env overrides applied)."""

    def __init__(self, model: TopologyModel, base_dir: Path, data_dir: Path) -> None:
        self.model = model
        self.base_dir = base_dir
        self.data_dir = data_dir

    @property
    def topics(self) -> dict[str, TopicModel]:
        return self.model.topics

    @property
    def nodes(self) -> dict[str, NodeModel]:
        return self.model.nodes

    @property
    def dead_letter_topic(self) -> str:
        return self.model.dead_letter_topic

    @property
    def bus_url(self) -> str:
        return os.environ.get("ARGUS_BUS") or self.model.bus or f"embedded://{self.data_dir / 'bus.db'}"

    def store_url(self, name: str) -> str:
        env = os.environ.get(f"ARGUS_{name.upper()}")
        if env:
            return env
        url = self.model.stores.get(name)
        return url or f"embedded://{self.data_dir / (name + '.db')}"

    def resolve_path(self, p: str) -> Path:
        path = Path(p).expanduser()
        return path if path.is_absolute() else (self.base_dir / path)


def embedded_path(url: str) -> Path:
    """`embedded:///abs/path` or `embedded://relative/path` -> a filesystem path."""
    rest = url.split("://", 1)[1] if "://" in url else url.split(":", 1)[1]
    return Path(rest)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise TopologyError([f"{path}: file not found"]) from None
    except yaml.YAMLError as exc:
        raise TopologyError([f"{path}: invalid YAML: {exc}"]) from None
    if not isinstance(doc, dict):
        raise TopologyError([f"{path}: expected a mapping at the top level"])
    return doc


def _merge(base: dict[str, Any], extra: dict[str, Any], where: Path, problems: list[str]) -> None:
    for section in ("topics", "nodes"):
        for name, spec in (extra.get(section) or {}).items():
            if name in (base.get(section) or {}):
                problems.append(f"{where}: {section[:-1]} {name!r} is defined twice")
            base.setdefault(section, {})[name] = spec
    for key in extra:
        if key not in ("topics", "nodes"):
            problems.append(f"{where}: an included pipeline may only define topics and nodes, not {key!r}")


def _fields_at(model: Any, loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed where `loc` points in `model` (a pydantic model class), walking through
    its fields, dicts and lists; [] where that cannot be told."""
    import typing

    t: Any = model
    for step in loc:
        origin = typing.get_origin(t)
        if origin in (dict, list) or t in (dict, list):
            args = typing.get_args(t)
            t = args[-1] if args else Any
        elif isinstance(t, type) and issubclass(t, BaseModel) and isinstance(step, str) and step in t.model_fields:
            t = t.model_fields[step].annotation
        else:
            return []
    return list(t.model_fields) if isinstance(t, type) and issubclass(t, BaseModel) else []


def describe(err: Any, model: Any) -> str:
    """A pydantic error as a problem: an unknown key says which it may have meant."""
    if err["type"] != "extra_forbidden":
        return str(err["msg"])
    key = str(err["loc"][-1])
    close = difflib.get_close_matches(key, _fields_at(model, tuple(err["loc"][:-1])), n=1, cutoff=0.6)
    return f"unknown key; did you mean {close[0]!r}?" if close else "unknown key"


def _config_problems(doc: dict[str, Any]) -> list[str]:
    """Node configs checked straight from the document, so a topology with problems elsewhere
    still has these reported in the same pass."""
    out: list[str] = []
    nodes = doc.get("nodes")
    for name, node in (nodes or {}).items() if isinstance(nodes, dict) else ():
        if not isinstance(node, dict) or not isinstance(node.get("use"), str):
            continue
        try:
            cls = node_class(node["use"])
            cls.Config.model_validate(node.get("config") or {})
        except RegistryError as exc:
            out.append(f"node {name!r}: {exc}")
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(x) for x in err["loc"])
                out.append(f"node {name!r}: config.{loc}: {describe(err, cls.Config)}")
    return out


def load_topology(path: str | Path, data_dir: str | Path | None = None) -> Topology:
    path = Path(path).resolve()
    doc = _read_yaml(path)
    problems: list[str] = []
    for inc in doc.get("include") or []:
        inc_path = (path.parent / inc).resolve()
        _merge(doc, _read_yaml(inc_path), inc_path, problems)
    try:
        model = TopologyModel.model_validate(doc)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"])
            problems.append(f"{path.name}: {loc}: {describe(err, TopologyModel)}")
        raise TopologyError(problems + _config_problems(doc)) from None
    if problems:
        raise TopologyError(problems)
    dd = data_dir or os.environ.get("ARGUS_DATA_DIR")
    resolved = Path(dd).resolve() if dd else (path.parent / model.data_dir).resolve()
    return Topology(model, path.parent, resolved)


def _colocation_problems(topo: Topology, name: str) -> list[str]:
    other = topo.nodes[name].colocate_with
    if other not in topo.nodes:
        return [f"colocate_with: no node {other!r}"]
    out = [f"colocate_with: {n!r} is split by partition, so it has no one worker to share" for n in (name, other)
           if partitioned(topo, n)]  # fmt: skip
    path = colocation_path(topo, name)
    if (last := topo.nodes[path[-1]].colocate_with) in path:
        out.append(f"colocate_with: goes round in a circle back to {last!r}")
    return out


def check(topo: Topology, schemas: SchemaSet | None = None) -> list[str]:
    """Return warnings; raise TopologyError listing every problem."""
    schemas = schemas or default_schemas()
    problems: list[str] = []
    warnings: list[str] = []
    topics = topo.topics
    dlq = topo.dead_letter_topic
    if dlq not in topics:
        problems.append(f"dead_letter_topic {dlq!r} is not declared under topics")
    elif topics[dlq].schema_ != DEAD_LETTER_SCHEMA:
        problems.append(f"topic {dlq!r} must use schema {DEAD_LETTER_SCHEMA}")
    for tname, t in topics.items():
        try:
            schemas.get(t.schema_)
        except SchemaError as exc:
            problems.append(f"topic {tname!r}: {exc}")
    problems += [f"schemas: {p}" for p in schemas.versions_problems()]
    for kind, url in [("bus", topo.bus_url)] + [(k, topo.store_url(k)) for k in STORE_KINDS]:
        try:
            backend_class(kind, url)
        except RegistryError as exc:
            problems.append(str(exc))
    produced: set[str] = set()
    consumed: set[str] = set()
    for name, node in topo.nodes.items():
        where = f"node {name!r}"
        try:
            cls = node_class(node.use)
        except RegistryError as exc:
            problems.append(f"{where}: {exc}")
            continue
        role = role_of(cls)
        try:
            cls.Config.model_validate(node.config)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(x) for x in err["loc"])
                problems.append(f"{where}: config.{loc}: {describe(err, cls.Config)}")
        if role == "connector" and node.inputs:
            problems.append(f"{where}: a connector has no inputs")
        if role != "connector" and not node.inputs:
            problems.append(f"{where}: a {role} needs at least one input topic")
        if role != "sink" and not node.outputs:
            problems.append(f"{where}: a {role} needs at least one output topic")
        if role == "sink" and node.outputs:
            problems.append(f"{where}: a sink writes to its store, not to topics (outputs: {node.outputs})")
        for direction, names, allowed, seen, verb in (
            ("input", node.inputs, getattr(cls, "accepts", ()), consumed, "reads"),
            ("output", node.outputs, getattr(cls, "emits", ()), produced, "writes"),
        ):
            for t in names:
                if t not in topics:
                    problems.append(f"{where}: {direction} topic {t!r} is not declared")
                elif allowed and topics[t].schema_ not in allowed:
                    problems.append(
                        f"{where}: {direction} {t!r} carries {topics[t].schema_}, but "
                        f"{cls.__name__} {verb} only {', '.join(allowed)}"
                    )
                seen.add(t)
        for store in getattr(cls, "stores", ()):
            if store not in BACKENDS and store not in topo.model.stores:
                problems.append(f"{where}: needs store {store!r}, which stores: does not define")
        if node.colocate_with is not None:
            problems += [f"{where}: {p}" for p in _colocation_problems(topo, name)]
        # A node class may hold the topology to rules of its own (entity resolution: each kind
        # resolved once along a chain of its nodes).
        hook = getattr(cls, "check_topology", None)
        if hook is not None and not problems:
            problems += [f"{where}: {p}" for p in hook(name, topo)]
    for t in sorted(consumed - produced - {n for n, t in topics.items() if t.external}):
        problems.append(f"topic {t!r} is read by a node but no node writes it")
    # An external topic no node touches is written and read outside the stream (the API's
    # workflow services, the field alert stream): declared for its schema and retention.
    for t in sorted(set(topics) - consumed - produced - {dlq} - {n for n, t in topics.items() if t.external}):
        warnings.append(f"topic {t!r} is declared but no node uses it")
    if not problems:
        try:
            plan_order(topo)
        except TopologyError as exc:
            problems += exc.problems
    if problems:
        raise TopologyError(problems)
    return warnings
