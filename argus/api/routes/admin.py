"""Administration from the workbench: an administrator manages the people of their own agency
(users, roles, units, API keys) and reads the agencies; each change is audited as the CLI's are.
Administrators read no holdings (separation of duties); another agency's people are not theirs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from argus.api.deps import Caller, Problem, bounded, json, reader
from argus.api.models import PROBLEMS, answers
from argus.security.identity import IdentityError

router = APIRouter(tags=["admin"])
Admin = Annotated[Caller, Depends(reader("manage"))]
SubjectId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9.\-]+$")]


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9.\-]+$")
    name: str = Field(min_length=1, max_length=128)
    roles: list[str] = Field(min_length=1, max_length=8)
    unit: str | None = Field(default=None, max_length=32)
    system: bool = False


class Roles(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[str] = Field(min_length=1, max_length=8)


class People(BaseModel):
    agencies: list[dict[str, Any]]
    subjects: list[dict[str, Any]]


class NewKey(BaseModel):
    key: str
    key_id: str


PEOPLE_EXAMPLE = {
    "agencies": [{"ori": "CA0430000", "name": "Clovis PD", "law_enforcement": True, "community": None, "barred": []}],
    "subjects": [
        {"id": "4471", "kind": "user", "agency": "CA0430000", "name": "Ofc. D. Park", "roles": ["patrol_officer"],
         "unit": "2A31", "disabled": False, "cases": [], "lists": [],
         "keys": [{"key_id": "a5a1f19b0744", "created": "2026-12-06T06:40:00+00:00", "revoked": None}]}
    ],
}  # fmt: skip


def _mine(c: Caller, subject_id: str) -> dict[str, Any]:
    d = c.svc.directory()
    try:
        s = d.subject(subject_id)
    except IdentityError:
        s = None
    if s is None or s["agency"] != c.who.agency:
        c.denied(f"subject:{subject_id}", "not of the administrator's agency")
        raise Problem(404, "No such user", f"no user {subject_id!r} in your agency")
    return s


def _people(c: Caller) -> dict[str, Any]:
    d = c.svc.directory()
    mine = [s for s in d.subjects() if s["agency"] == c.who.agency]
    keys = {}
    for k in d.keys():
        if any(s["id"] == k["subject"] for s in mine):
            keys.setdefault(k["subject"], []).append({x: k.get(x) for x in ("key_id", "created", "revoked")})
    c.audited("read", "directory", endpoint="admin_people")
    return {"agencies": d.agencies(), "subjects": [s | {"keys": keys.get(s["id"], [])} for s in mine]}


def _change(c: Caller, what: str, change: str, fn: Any, **detail: Any) -> Any:
    try:
        out = fn(c.svc.directory())
    except IdentityError as exc:
        raise Problem(422, "Refused by the directory", str(exc)) from None
    c.api.audit.record(
        "admin", actor=c.subject, agency=c.who.agency, object=what, source=c.source, detail={"change": change, **detail}
    )
    return out


@router.get(
    "/api/v1/admin/people",
    summary="Agencies, and your agency's users and keys",
    responses=answers(People, PEOPLE_EXAMPLE),
)
async def people(c: Admin) -> Any:
    """Every agency (their sharing rules), and the users of the administrator's own agency with
    their roles and API keys (never a key's secret)."""
    return json(await bounded(c, _people, c))


@router.post(
    "/api/v1/admin/users",
    status_code=201,
    summary="Add a user to your agency",
    responses=answers(People, PEOPLE_EXAMPLE, 201),
)
async def add_user(c: Admin, body: NewUser) -> Any:
    """A new user or system of the administrator's agency, with roles the agency may hold (a
    partner organisation cannot be given law-enforcement roles); audited."""

    def run() -> dict[str, Any]:
        try:
            c.svc.directory().subject(body.id)
            raise Problem(409, "Exists", f"user {body.id!r} exists")
        except IdentityError:
            pass
        kind = "system" if body.system else "user"
        _change(
            c, f"subject:{body.id}", "user add",
            lambda d: d.add_subject(body.id, c.who.agency, body.roles, kind=kind, name=body.name, unit=body.unit),
            roles=body.roles,
        )  # fmt: skip
        return _people(c)

    return json(await bounded(c, run), 201)


@router.post(
    "/api/v1/admin/users/{subject_id}/roles",
    summary="Replace a user's roles",
    responses=answers(People, PEOPLE_EXAMPLE),
)
async def set_roles(c: Admin, subject_id: SubjectId, body: Roles) -> Any:
    """The user's full new set of roles; a user of another agency is not found; audited."""

    def run() -> dict[str, Any]:
        _mine(c, subject_id)
        _change(
            c, f"subject:{subject_id}", "user roles", lambda d: d.set_roles(subject_id, body.roles), roles=body.roles
        )
        return _people(c)

    return json(await bounded(c, run))


@router.post("/api/v1/admin/users/{subject_id}/disable", summary="Disable a user and end their sessions",
             responses=answers(People, PEOPLE_EXAMPLE))  # fmt: skip
async def disable(c: Admin, subject_id: SubjectId) -> Any:
    """The user can no longer authenticate by any means, and every session of theirs ends now."""

    def run() -> dict[str, Any]:
        _mine(c, subject_id)
        _change(c, f"subject:{subject_id}", "user disable", lambda d: d.disable(subject_id))
        c.api.sessions.end_subject(subject_id)
        return _people(c)

    return json(await bounded(c, run))


@router.post("/api/v1/admin/users/{subject_id}/keys", status_code=201, summary="A new API key (shown once)",
             responses=answers(NewKey, {"key": "argus_ab12cd34ef56_...", "key_id": "ab12cd34ef56"}, 201))  # fmt: skip
async def new_key(c: Admin, subject_id: SubjectId) -> Any:
    """A new API key for a user or system of the agency: the secret is in this answer only and
    is never stored (only its hash); audited."""

    def run() -> dict[str, str]:
        _mine(c, subject_id)
        key = _change(c, f"subject:{subject_id}", "key create", lambda d: d.create_key(subject_id))
        return {"key": key, "key_id": key.split("_")[1]}

    return json(await bounded(c, run), 201)


@router.delete("/api/v1/admin/keys/{key_id}", status_code=204, summary="Revoke an API key of your agency",
               responses={204: {}, **PROBLEMS})  # fmt: skip
async def revoke_key(
    c: Admin, key_id: Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]
) -> Response:
    """The key stops working at once, and its user's sessions end; audited."""

    def run() -> None:
        d = c.svc.directory()
        row = next((k for k in d.keys() if k["key_id"] == key_id), None)
        if row is None:
            raise Problem(404, "No such key", f"no key {key_id!r} in your agency")
        _mine(c, row["subject"])
        _change(c, f"key:{key_id}", "key revoke", lambda d: d.revoke_key(key_id), subject=row["subject"])
        c.api.sessions.end_subject(row["subject"])

    await bounded(c, run)
    return Response(status_code=204)


class Membership(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["case", "list"]
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")
    member: bool = Field(description="true: add the membership; false: remove it")


class Barred(BaseModel):
    model_config = ConfigDict(extra="forbid")

    barred: list[str] = Field(max_length=200, description="ORIs your agency shares nothing beyond TLP:CLEAR with")


@router.post(
    "/api/v1/admin/users/{subject_id}/memberships",
    summary="Add or remove a case or dissemination-list membership",
    responses=answers(People, PEOPLE_EXAMPLE),
)
async def membership(c: Admin, subject_id: SubjectId, body: Membership) -> Any:
    """Need-to-know: a case membership lets the user see the case's AMBER records in full; a
    dissemination list lets records addressed to the list reach them. Audited."""

    def run() -> dict[str, Any]:
        _mine(c, subject_id)

        def change(d: Any) -> None:
            (d.add_member if body.member else d.remove_member)(subject_id, body.kind, body.name)

        action = "member add" if body.member else "member remove"
        _change(c, f"subject:{subject_id}", action, change, kind=body.kind, name=body.name)
        return _people(c)

    return json(await bounded(c, run))


@router.post(
    "/api/v1/admin/agency/barred",
    summary="The agencies your agency refuses to share with",
    responses=answers(People, PEOPLE_EXAMPLE),
)
async def set_barred(c: Admin, body: Barred) -> Any:
    """Replaces the administrator's own agency's bar list: the agencies that get nothing of its
    records beyond TLP:CLEAR, whatever else the records' markings say. Audited."""

    def run() -> dict[str, Any]:
        _change(c, f"agency:{c.who.agency}", "agency bar", lambda d: d.set_barred(c.who.agency, body.barred),
                barred=body.barred)  # fmt: skip
        return _people(c)

    return json(await bounded(c, run))
