"""What the API answers, as OpenAPI documents it: a response model and an example per operation,
and the problem document every error is. The routes build their answers directly (the gate has
already decided every field); these models describe them for integrators and generated clients,
and are not used to re-validate answers on the hot path."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Access = Literal["full", "amber", "existence"]


class ProblemDoc(BaseModel):
    """RFC 9457 problem details (application/problem+json)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = Field(description="What was wrong, naming the field or parameter")
    instance: str = Field(description="The path asked for")
    errors: list[dict[str, Any]] | None = Field(default=None, description="Each invalid field, where given")


def _problem(status: int, why: str) -> dict[str, Any]:
    example = {"type": "about:blank", "title": why, "status": status, "detail": why, "instance": "/api/v1/..."}
    return {"model": ProblemDoc, "description": why, "content": {"application/problem+json": {"example": example}}}


PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: _problem(400, "A parameter is malformed or out of range"),
    401: _problem(401, "Not authenticated"),
    403: _problem(403, "The caller's role may not do this"),
    404: _problem(404, "Nothing the caller may see is there"),
    422: _problem(422, "The body does not validate"),
    503: _problem(503, "A store or the schema registry is unavailable (Retry-After)"),
    504: _problem(504, "The query took longer than the API's timeout"),
}


def answers(model: type[BaseModel], example: Any, status: int = 200, media: str = "application/json") -> dict:
    """`responses=` for an operation: its answer (model and example) and the problems."""
    return {status: {"model": model, "content": {media: {"example": example}}}, **PROBLEMS}


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class SearchHit(_Open):
    id: str
    kind: str = Field(description="rms.incident, cad.incident, sar, stix or ttp")
    agency: str
    tlp: str
    title: str
    access: Access = Field(description="full; amber (narrative, names, DOBs, places withheld); existence")
    occurred_at: str | None = None
    lat: float | None = None
    lon: float | None = None
    snippet: str | None = Field(default=None, description="Matched words in [brackets]; empty unless seen in full")
    withheld: list[str] | None = None
    fields: dict[str, Any] | None = None


class SearchPage(BaseModel):
    total: int = Field(description="Every match the caller may know of; never one it may not")
    limit: int
    offset: int
    hits: list[SearchHit]


class Facets(BaseModel):
    type: dict[str, int]
    agency: dict[str, int]
    tlp: dict[str, int]


class GeoAnswer(BaseModel):
    total: int
    points: list[dict[str, Any]]
    clusters: list[dict[str, Any]]


class Entity(_Open):
    id: str
    kind: str = Field(description="PERSON, OBJECT, LOCATION or EVENT")
    subtype: str
    label: str = Field(description="As the caller's visible sources tell it, or 'restricted, contact <agency>'")
    props: dict[str, Any]
    access: Access
    degree: int | None = Field(default=None, description="Links the caller may follow (neighbours, degree=true)")


class Profile(BaseModel):
    entity: Entity
    requested_id: str
    merged_from: list[dict[str, Any]] = Field(description="What was merged into it and why, as far as visible")
    sources: list[dict[str, Any]] = Field(description="Each source record the caller may know of")


class Neighbourhood(BaseModel):
    center: str
    hops: int
    truncated: bool
    nodes: list[Entity]
    edges: list[dict[str, Any]] = Field(description="Each with the reason it exists, or 'withheld'")


class PathsAnswer(BaseModel):
    from_: str = Field(alias="from")
    to: str
    paths: list[list[dict[str, Any]]]
    nodes: list[Entity]


class Timeline(BaseModel):
    entity: Entity
    total: int
    events: list[SearchHit]


class MatchEvidence(BaseModel):
    field: str
    level: str
    weight: float = Field(description="log2 Bayes factor this field contributed")


class PossibleMatch(BaseModel):
    id: str = Field(description="The possible match (the link entity resolution wrote)")
    entity: Entity = Field(description="The person the record named")
    other: Entity = Field(description="The person on file it may be")
    weight: float = Field(description="Total match weight, log2 odds")
    evidence: list[MatchEvidence]
    reason: str
    record_id: str = Field(description="The record whose mention raised it")


class MatchQueue(BaseModel):
    total: int = Field(description="Open possible matches the caller may decide")
    matches: list[PossibleMatch]


class Accepted(_Open):
    status: str = "accepted"


class AlertHit(_Open):
    matched: str
    report_id: str
    report_agency: str
    report_tlp: str
    access: Access
    score: float
    reasons: list[str]
    contact: str
    fields: dict[str, str]
    withheld: list[str]


class Alert(_Open):
    alert_id: str
    alert_type: str
    recipient_agency: str
    recipient_unit: str | None = None
    recipient_officer: str | None = None
    summary: str
    level: str
    score: float
    instructions: str
    hits: list[AlertHit]


class FieldAnswer(BaseModel):
    query_id: str | None
    record_id: str
    status: Literal["HIT", "NO_HIT", "PENDING"]
    alerts: list[Alert]


class AuditPage(BaseModel):
    entries: list[dict[str, Any]]
    next_after: int = Field(description="Give as `after` for the next page")


class Listing(_Open):
    total: int


class StixImport(BaseModel):
    accepted: int
    rejected: list[dict[str, Any]] = Field(description="Each refused object: its index, id and the reason")
    objects: list[dict[str, Any]]


class FeedList(BaseModel):
    total: int
    feeds: list[dict[str, Any]]


class AuditVerdict(BaseModel):
    ok: bool
    entries: int
    first_bad: int | None
    problem: str | None


class AckList(BaseModel):
    alert_ids: list[str]


class Health(BaseModel):
    status: str


class Taxii(_Open):
    """A TAXII 2.1 resource (application/taxii+json;version=2.1)."""


HIT = {
    "id": "5f1c…",
    "kind": "rms.incident",
    "agency": "CA0190000",
    "tlp": "AMBER",
    "title": "RMS report CA0190000 RPT-2026-0412",
    "access": "amber",
    "occurred_at": "2026-11-22T02:14:00+00:00",
    "lat": None,
    "lon": None,
    "snippet": "",
    "withheld": ["narrative", "person_names", "person_dobs", "locations"],
    "fields": {"offenses": ["120"], "series_id": "ROB-2026-014"},
}
ENTITY = {
    "id": "9b2e…",
    "kind": "OBJECT",
    "subtype": "vehicle",
    "label": "CA 8ABC123 2014 HOND CIVIC GRY",
    "props": {"plate": "8ABC123", "state": "CA"},
    "access": "full",
}
ALERT = {
    "alert_id": "67dd…",
    "alert_type": "QUERY_HIT",
    "recipient_agency": "CA0430000",
    "recipient_unit": "2A31",
    "recipient_officer": "mdt-2a31",
    "summary": "HIGH: vehicle CA 8ABC123 is on file with CA0190000 (120 robbery, series ROB-2026-014)",
    "level": "HIGH",
    "score": 86.0,
    "instructions": "A hit on another agency's record is a lead, not probable cause. Confirm with CA0190000.",
    "hits": [
        {
            "matched": "vehicle CA 8ABC123",
            "report_id": "RPT-2026-0412",
            "report_agency": "CA0190000",
            "report_tlp": "AMBER",
            "access": "amber",
            "score": 86.0,
            "reasons": ["+35 robbery (NIBRS 120, violent)", "+20 listed as suspect"],
            "contact": "CA0190000 (Det. M. Alvarez #4411)",
            "fields": {"offenses": "120 robbery", "series_id": "ROB-2026-014"},
            "withheld": ["narrative", "person_names", "person_dobs", "locations"],
        }
    ],
}
EXAMPLES: dict[str, Any] = {
    "search": {"total": 1, "limit": 20, "offset": 0, "hits": [HIT]},
    "geo": {"total": 1, "points": [{"id": "5f1c…", "lat": 36.81, "lon": -119.83}], "clusters": []},
    "profile": {"entity": ENTITY, "requested_id": "9b2e…", "merged_from": [], "sources": []},
    "neighbours": {"center": "9b2e…", "hops": 1, "truncated": False, "nodes": [ENTITY], "edges": []},
    "paths": {"from": "9b2e…", "to": "c71a…", "paths": [], "nodes": []},
    "timeline": {"entity": ENTITY, "total": 1, "events": [HIT]},
    "unmerge": {"decision_id": "0b7e…", "entity_id": "9b2e…", "was_merged_into": "c71a…", "status": "accepted"},
    "possible_matches": {
        "total": 1,
        "matches": [
            {
                "id": "5d0c…",
                "entity": ENTITY,
                "other": ENTITY | {"id": "c71a…"},
                "weight": 13.4,
                "record_id": "3c9a…",
                "evidence": [
                    {"field": "surname", "level": "exact", "weight": 7.5},
                    {"field": "given", "level": "variant or initial", "weight": 5.9},
                ],
                "reason": "match weight 13.4 bits: surname exact (+7.5), given variant or initial (+5.9)",
            }
        ],
    },
    "match_decision": {"decision_id": "0b7e…", "match_id": "5d0c…", "verdict": "SAME", "status": "accepted"},
    "field": {"query_id": "Q-20261125-000917", "record_id": "3c9a…", "status": "HIT", "alerts": [ALERT]},
    "stream": 'id: 0:41,1:17,2:-1,3:-1\nevent: alert\ndata: {"alert_id": "67dd…", …}\n\n',
    "submission": {
        "record_id": "8f0d…",
        "kind": "sar",
        "status": "accepted",
        "reliability": "C",
        "validity": 3,
        "review_by": "2031-11-25T10:00:00+00:00",
    },
    "audit": {"entries": [{"seq": 42, "action": "read", "actor": "ana", "agency": "CA0430000"}], "next_after": 42},
    "bundle": {"type": "bundle", "id": "bundle--5d00…", "objects": []},
    "import": {"accepted": 1, "rejected": [], "objects": [{"id": "indicator--6e2b…", "version": "2026-11-01…"}]},
    "techniques": {"total": 1, "techniques": [{"attack_id": "T0884", "name": "Connection Proxy"}]},
    "matches": {"total": 0, "matches": []},
    "attack": {"total": 1, "groups": [{"attack_id": "G0034", "name": "Sandworm Team"}]},
    "feeds": {"total": 0, "feeds": []},
    "feed": {"name": "neighbour-fc", "url": "https://taxii.neighbour.example/api1/", "agency": "CA0430000"},
    "health": {"status": "ok"},
}
