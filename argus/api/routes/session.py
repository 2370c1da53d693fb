"""Workbench login: trade a credential for a session cookie once, then act with the cookie.

The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it) and
Secure except on a loopback address; the body answers the CSRF token the workbench must echo on
every change, and who the policy sees. Logout ends the session in the store, so every API
process refuses the cookie from then on. Login and logout are audited.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from argus.api.deps import (
    SESSION_COOKIE,
    Api,
    Caller,
    Problem,
    api_of,
    caller,
    json,
    login_accepted,
    login_refused,
    optional_caller,
)
from argus.api.models import PROBLEMS, answers
from argus.security.identity import AuthError, IdentityError
from argus.security.policy import ROLE_PERMISSIONS, Recipient

router = APIRouter(tags=["session"])
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


class Login(BaseModel):
    """An API key (systems and the demo) or an OIDC token already obtained from the issuer, and
    which of the subject's roles to act in (default: their first)."""

    model_config = ConfigDict(extra="forbid")

    api_key: str | None = Field(default=None, max_length=256)
    id_token: str | None = Field(default=None, max_length=16384)
    role: str | None = Field(default=None, max_length=64)


class Me(BaseModel):
    subject: str
    name: str | None
    agency: str
    agency_name: str | None
    role: str
    roles: list[str]
    permissions: list[str]
    unit: str | None
    csrf: str | None
    idle_seconds: float
    expires_at: float
    tile_url: str | None = None


def me(api: Api, subject: str, who: Recipient, csrf: str | None, created: float) -> dict[str, Any]:
    d = api.svc.directory()
    s = d.subject(subject)
    agency = d.agency(who.agency) or {}
    st = api.sessions
    return {
        "subject": subject,
        "name": s.get("name"),
        "agency": who.agency,
        "agency_name": agency.get("name"),
        "role": who.role,
        "roles": list(s["roles"]),
        "permissions": sorted(ROLE_PERMISSIONS.get(who.role, ())),
        "unit": who.unit,
        "csrf": csrf,
        "idle_seconds": st.idle,
        "expires_at": created + st.absolute,
        "tile_url": api.svc.topo.model.api.tile_url,
    }


def cookie_secure(request: Request) -> bool:
    """Cookies are Secure except on a loopback address (a laptop's http://127.0.0.1)."""
    return (request.url.hostname or "").lower() not in LOOPBACK


def set_session_cookie(request: Request, out: Response, token: str, max_age: float) -> None:
    out.set_cookie(
        SESSION_COOKIE, token, max_age=int(max_age), path="/", httponly=True, samesite="strict",
        secure=cookie_secure(request),
    )  # fmt: skip


EXAMPLE = {
    "subject": "4471", "name": "Ofc. D. Park", "agency": "CA0430000", "agency_name": "Clovis PD",
    "role": "patrol_officer", "roles": ["patrol_officer"], "permissions": ["field", "read"], "unit": "2A31",
    "csrf": "k3J...", "idle_seconds": 1800.0, "expires_at": 1796212800.0,
}  # fmt: skip


@router.post(
    "/api/v1/session",
    summary="Log in: a session cookie for the workbench",
    responses=answers(Me, EXAMPLE),
    openapi_extra={"security": [{}]},  # the credential is the body
)
async def login(request: Request, body: Login) -> Any:
    """Exchange an API key or an OIDC token for a session; the cookie carries it from then on."""
    api = api_of(request)
    source = request.client.host if request.client else None
    token = body.api_key or body.id_token
    if not token or (body.api_key and body.id_token):
        raise Problem(422, "Invalid request", "body: send one of api_key or id_token")
    directory = api.svc.directory()

    def authenticate() -> Any:
        if body.api_key:
            return directory.authenticate_key(body.api_key, body.role)
        return directory.authenticate_jwt(token, body.role)

    try:
        ident = await anyio.to_thread.run_sync(authenticate)
    except (AuthError, IdentityError) as exc:
        login_refused(api, exc, source, "session")
        raise Problem(401, "Not authenticated", "the credentials were not accepted") from None
    cookie, s = api.sessions.open(ident.subject, ident.recipient.role, ident.method)
    login_accepted(api, ident.subject, ident.recipient, source, f"session/{ident.method}")
    out = json(await anyio.to_thread.run_sync(me, api, ident.subject, ident.recipient, s.csrf, s.created))
    set_session_cookie(request, out, cookie, api.sessions.absolute)
    return out


@router.get(
    "/api/v1/session",
    summary="Who the session is (204: nobody is logged in)",
    responses={**answers(Me, EXAMPLE), 204: {"description": "No credentials, or a session that has ended"}},
)
async def whoami(c: Annotated[Caller | None, Depends(optional_caller)]) -> Any:
    """The caller as the policy sees them; with the cookie, the session's CSRF token again (a
    reloaded page has lost it). Nobody logged in is an answer, not an error: 204."""
    if c is None:
        out = Response(status_code=204)
        out.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return out
    csrf, created = None, time.time()
    if c.session is not None:
        s = c.api.sessions.by_id(c.session)
        if s is not None:
            csrf, created = s.csrf, s.created
    return json(await anyio.to_thread.run_sync(me, c.api, c.subject, c.who, csrf, created))


@router.delete("/api/v1/session", summary="Log out: end the session", status_code=204, responses={204: {}, **PROBLEMS})
async def logout(c: Annotated[Caller, Depends(caller)], request: Request) -> Response:
    """Ends the session everywhere and clears the cookie (CSRF-checked like every change)."""
    if c.session is None:
        raise Problem(400, "Not a session", "log out ends a session cookie; an API key is revoked by an admin")
    c.api.sessions.end_id(c.session)
    c.api.audit.record("logout", actor=c.subject, agency=c.who.agency, source=c.source)
    out = Response(status_code=204)
    out.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return out
