"""TAXII 2.1 feed subscriptions: those declared in topology.yaml and those an analyst adds.

Analyst-added feeds live in `<data_dir>/feeds.db` (store kind "feeds") so the running TAXII
connector picks them up on its next poll without a restart. Secrets may be given as
`env:NAME` (read by the worker from its environment) instead of being stored; stored secrets are
kept in a file only its owner can read and are never returned by `public()`.
"""

from __future__ import annotations

import os
import re
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from argus.sqlite import connect

FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
SECRET_FIELDS = ("password", "token")


class FeedError(ValueError):
    pass


class FeedSpec(BaseModel):
    """One partner collection to poll."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Short name, used in metrics and the connector's cursor")
    url: str = Field(description="The API root URL, e.g. https://taxii.partner.gov/api1/")
    collection: str = Field(description="Collection id")
    agency: str = Field(description="ORI of the partner whose intelligence this is")
    username: str | None = None
    password: str | None = Field(default=None, description="Basic auth password, or env:NAME")
    token: str | None = Field(default=None, description="Bearer token, or env:NAME")
    cert: str | None = Field(default=None, description="Client certificate (PEM) for mutual TLS")
    key: str | None = Field(default=None, description="Private key of the client certificate (PEM)")
    verify: bool | str = Field(default=True, description="Verify TLS (true), or a CA bundle path")
    poll_interval: float = Field(default=300.0, gt=0, le=86_400)
    types: list[str] = Field(default_factory=list, description="match[type] filter; empty = every type")
    page_size: int = Field(default=500, ge=1, le=10_000)
    added_after: str | None = Field(default=None, description="Start from here on the first poll")
    default_tlp: str = "TLP:GREEN"
    default_reliability: str = "C"
    default_validity: int = 3
    timeout: float = Field(default=30.0, gt=0, le=600)
    max_backoff: float = Field(default=900.0, gt=0, le=86_400)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not FEED_NAME.match(v):
            raise ValueError("lower-case letters, digits, '_', '.', '-'; at most 64")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("an http(s) URL of the API root")
        return v if v.endswith("/") else v + "/"

    @field_validator("types")
    @classmethod
    def _types(cls, v: list[str]) -> list[str]:
        for t in v:
            if not re.match(r"^[a-z0-9-]{1,250}$", t):
                raise ValueError(f"{t!r} is not a STIX type")
        return v

    @model_validator(mode="after")
    def _auth(self) -> FeedSpec:
        if (self.password is None) != (self.username is None):
            raise ValueError("basic auth needs both username and password")
        if self.key and not self.cert:
            raise ValueError("a client key needs its certificate")
        return self

    def secret(self, field: str) -> str | None:
        """A secret's value; `env:NAME` is read from the environment now, so a rotated secret is
        picked up without touching the subscription."""
        v: str | None = getattr(self, field)
        if v and v.startswith("env:"):
            name = v[4:]
            if name not in os.environ:
                raise FeedError(f"feed {self.name}: {field} is env:{name}, which is not set")
            return os.environ[name]
        return v

    def public(self) -> dict[str, Any]:
        """What may be shown to analysts and logs: secrets only as whether they are set."""
        d = self.model_dump()
        for f in SECRET_FIELDS:
            v = d[f]
            d[f] = None if v is None else (v if v.startswith("env:") else "***")
        return d


class FeedStore(ABC):
    """Where analyst-added subscriptions live (the running pollers re-read it every few seconds)."""

    @abstractmethod
    def add(self, spec: FeedSpec, added_by: str, replace: bool = False) -> None:
        """FeedError if a feed of that name exists and `replace` is false."""

    @abstractmethod
    def remove(self, name: str) -> bool: ...

    @abstractmethod
    def list(self) -> list[FeedSpec]:
        """Every feed, by name."""

    @abstractmethod
    def get(self, name: str) -> FeedSpec | None: ...

    @abstractmethod
    def close(self) -> None: ...


class FeedRegistry(FeedStore):
    """Analyst-added subscriptions (embedded SQLite)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        self._db = connect(self.path)
        if fresh:
            os.chmod(self.path, 0o600)
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS feeds (name TEXT PRIMARY KEY, spec BLOB NOT NULL,"
            " added_by TEXT NOT NULL, added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
        )

    def add(self, spec: FeedSpec, added_by: str, replace: bool = False) -> None:
        with self._lock, self._db:
            if not replace and self._db.execute("SELECT 1 FROM feeds WHERE name=?", (spec.name,)).fetchone():
                raise FeedError(f"a feed named {spec.name} exists")
            self._db.execute(
                "INSERT OR REPLACE INTO feeds (name, spec, added_by) VALUES (?,?,?)",
                (spec.name, orjson.dumps(spec.model_dump()), added_by),
            )

    def remove(self, name: str) -> bool:
        with self._lock, self._db:
            return self._db.execute("DELETE FROM feeds WHERE name=?", (name,)).rowcount > 0

    def list(self) -> list[FeedSpec]:
        with self._lock:
            rows = self._db.execute("SELECT spec FROM feeds ORDER BY name").fetchall()
        return [FeedSpec.model_validate(orjson.loads(r[0])) for r in rows]

    def get(self, name: str) -> FeedSpec | None:
        with self._lock:
            row = self._db.execute("SELECT spec FROM feeds WHERE name=?", (name,)).fetchone()
        return FeedSpec.model_validate(orjson.loads(row[0])) if row else None

    def close(self) -> None:
        self._db.close()


def feed_nodes(topo: Any) -> list[str]:
    """Names of the topology's TAXII poller nodes (`use: taxii`)."""
    return [name for name, m in topo.nodes.items() if m.use == "taxii"]


def feed_allow(topo: Any) -> list[str]:
    """Where analyst-added feeds may point besides public addresses (the pollers' `feed_allow`)."""
    return sorted({a for n in feed_nodes(topo) for a in topo.nodes[n].config.get("feed_allow", [])})


def subscriptions(topo: Any, registry: FeedStore, bus: Any | None = None) -> list[dict[str, Any]]:
    """Every feed the topology's pollers read, declared or added, without secrets; with its
    committed cursor when a bus is given (the poller's state: where the next poll starts)."""
    out: list[dict[str, Any]] = []
    nodes = feed_nodes(topo)
    for node in nodes:
        cfg = topo.nodes[node].config
        state = bus.load_state(node) if bus is not None else {}
        seen = set()
        for raw in cfg.get("feeds", []):
            spec = FeedSpec.model_validate(raw)
            seen.add(spec.name)
            out.append(
                {**spec.public(), "source": "topology", "node": node, "cursor": state.get(f"feed:{spec.name}"),
                 "status": state.get(f"status:{spec.name}")}
            )  # fmt: skip
        if cfg.get("registry", True):
            for spec in registry.list():
                if spec.name not in seen:
                    cursor, status = state.get(f"feed:{spec.name}"), state.get(f"status:{spec.name}")
                    out.append(
                        {**spec.public(), "source": "registry", "node": node, "cursor": cursor, "status": status}
                    )
    return out
