"""The workbench's OpenID Connect login (argus/security/oidc.py): a redirect to the issuer, and
the callback that turns its code into a session cookie. Which ways in a site offers is public
(the login screen asks before anyone is logged in); nothing else here answers without a login.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from argus.api.deps import Problem, api_of, json, login_accepted, login_refused
from argus.api.models import PROBLEMS, answers
from argus.api.routes.session import cookie_secure, set_session_cookie
from argus.security.identity import AuthError, IdentityError
from argus.security.oidc import IssuerUnavailable, OidcClient, Pending

router = APIRouter(tags=["session"])
PENDING_COOKIE = "argus_oidc"
CALLBACK = "/api/v1/session/oidc/callback"
FAILED = "/#login-failed"


class Methods(BaseModel):
    api_key: bool
    oidc: dict[str, str] | None


def client_of(request: Request) -> OidcClient | None:
    cfg = request.app.state.services.topo.model.api.oidc
    if cfg is None:
        return None
    got: OidcClient | None = getattr(request.app.state, "oidc", None)
    if got is None:
        got = request.app.state.oidc = OidcClient(cfg)
    return got


def _redirect_uri(request: Request, client: OidcClient) -> str:
    return client.cfg.redirect_uri or str(request.base_url).rstrip("/") + CALLBACK


@router.get(
    "/api/v1/session/methods",
    summary="The ways to log in here (public)",
    responses=answers(Methods, {"api_key": True, "oidc": {"label": "Keycloak", "login": "/api/v1/session/oidc/login"}}),
    openapi_extra={"security": [{}]},
)
async def methods(request: Request) -> Any:
    """For the login screen, before anyone is logged in: whether an identity provider is set up,
    and what its button says. Nothing about holdings or people."""
    c = client_of(request)
    oidc = None if c is None else {"label": c.cfg.label, "login": "/api/v1/session/oidc/login"}
    return json({"api_key": True, "oidc": oidc})


@router.get(
    "/api/v1/session/oidc/login",
    summary="Log in with the identity provider: a redirect to it",
    status_code=302,
    responses={302: {"description": "To the issuer's authorization endpoint"}, **PROBLEMS},
    openapi_extra={"security": [{}]},
)
async def oidc_login(request: Request) -> Response:
    """Sends the browser to the issuer with a fresh state, nonce and PKCE challenge (S256)."""
    c = client_of(request)
    if c is None:
        raise Problem(404, "No identity provider", "this site logs in with API keys only")
    try:
        url, pending = await anyio.to_thread.run_sync(c.start, _redirect_uri(request, c))
    except (IssuerUnavailable, AuthError) as exc:  # down, or not the issuer topology.yaml names
        raise Problem(503, "Identity provider unavailable", f"{exc}; try again shortly") from None
    out = RedirectResponse(url, status_code=302)
    out.set_cookie(
        PENDING_COOKIE, pending.cookie(), max_age=600, path=CALLBACK, httponly=True, samesite="lax",
        secure=cookie_secure(request),
    )  # fmt: skip
    return out


@router.get(
    "/api/v1/session/oidc/callback",
    summary="Where the identity provider sends the browser back",
    status_code=303,
    responses={303: {"description": "To the workbench, logged in (or to its login screen, refused)"}, **PROBLEMS},
    openapi_extra={"security": [{}]},
)
async def oidc_callback(
    request: Request,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=256)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    """Checks the state against the browser's pending login, exchanges the code, verifies the ID
    token and opens a session for the directory user it names; audited either way."""
    api = api_of(request)
    c = client_of(request)
    if c is None:
        raise Problem(404, "No identity provider", "this site logs in with API keys only")
    source = request.client.host if request.client else None
    pending = Pending.parse(request.cookies.get(PENDING_COOKIE))
    try:
        if error or not code:
            raise AuthError(f"the issuer answered {error or 'without a code'}")
        if pending is None or state != pending.state:
            raise AuthError("no login of this browser is waiting for this answer (state)")
        subject = await anyio.to_thread.run_sync(c.finish, code, _redirect_uri(request, c), pending)
        who = await anyio.to_thread.run_sync(api.svc.directory().recipient, subject)
    except (AuthError, IdentityError, IssuerUnavailable) as exc:
        login_refused(api, exc, source, "session/oidc")
        out: Response = RedirectResponse(FAILED, status_code=303)
    else:
        token, _ = api.sessions.open(subject, who.role, "oidc")
        login_accepted(api, subject, who, source, "session/oidc")
        out = RedirectResponse("/", status_code=303)
        set_session_cookie(request, out, token, api.sessions.absolute)
    out.delete_cookie(PENDING_COOKIE, path=CALLBACK, httponly=True, samesite="lax")
    return out
