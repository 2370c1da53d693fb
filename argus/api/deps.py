"""What every route depends on: who is asking (authentication only), what their role permits,
the audit of what they did, and the problem details every error becomes.

A `Caller` is built once per request from its credentials (an API key, a bearer token, the
password of HTTP Basic for TAXII clients, or the workbench's session cookie), resolved through the
identity directory. A request that changes anything on a session cookie must echo the session's
CSRF token in `X-CSRF-Token` (the cookie is also SameSite=Strict). Nothing in a
body, a query string or any other header can name the caller, a recipient or an agency the caller
acts for: routes read `c.who`, never the request, for that.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

import anyio
import orjson
from fastapi import Depends, Header, Request, Security
from fastapi.responses import JSONResponse, Response
from fastapi.security import (
    APIKeyCookie,
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)

from argus.api.access import Gate
from argus.api.intake import FieldDesk, Submissions
from argus.api.services import Services
from argus.security.audit import AuditTrail
from argus.security.identity import AuthError, Identity, IdentityError
from argus.security.policy import Recipient
from argus.security.sessions import SessionStore
from argus.workflows.training import lapsed

T = TypeVar("T")
PROBLEM = "application/problem+json"


class Problem(Exception):
    """An error answered as RFC 9457 problem details; `extra` members are added to the body."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def refused(exc: Any) -> Problem:
    """A workflow's refusal (SarRefused, ProductRefused: a status, the field, the problem) as a
    problem document naming the field."""
    titles = {403: "Not permitted", 409: "Not in that state", 422: "Refused", 503: "Not available"}
    return Problem(exc.status, titles.get(exc.status, "Refused"), str(exc),
                   errors=[{"field": exc.field, "problem": exc.problem}])  # fmt: skip


def problem_response(request: Request, status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": request.url.path}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, default=str)  # an alert's body this way is argus.alerts.alert_json


def json(obj: Any, status: int = 200) -> Response:
    return Response(dumps(obj), status_code=status, media_type="application/json")


@dataclass
class Api:
    """One app's services, shared by its routes (on `app.state.api`)."""

    svc: Services
    timeout: float
    sessions: SessionStore
    desk: FieldDesk = dataclasses.field(init=False)
    submissions: Submissions = dataclasses.field(init=False)
    logged_in: set[str] = dataclasses.field(
        default_factory=set
    )  # credentials this worker has seen: first use is the login
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.desk = FieldDesk(self.svc)
        self.submissions = Submissions(self.svc)

    @property
    def audit(self) -> AuditTrail:
        return self.svc.audit


@dataclass
class Caller:
    """An authenticated request: who (as the policy sees them), how, from where."""

    who: Recipient
    subject: str
    method: str
    source: str | None
    gate: Gate
    api: Api
    session: str | None = None  # the session's digest, when the caller came with the cookie

    @property
    def svc(self) -> Services:
        return self.api.svc

    def audited(self, action: str, what: str, **detail: Any) -> None:
        """A read or write by this caller, with how much the gate kept back."""
        self.api.audit.record(
            action,
            actor=self.subject,
            agency=self.who.agency,
            object=what,
            source=self.source,
            detail=dict(detail, withheld=self.gate.hidden),
        )

    def denied(self, what: str, reason: str) -> None:
        self.api.audit.record(
            "deny", actor=self.subject, agency=self.who.agency, object=what, outcome="denied",
            source=self.source, reason=reason,
        )  # fmt: skip

    def hide(self, what: str) -> Problem:
        """A 404 for what the caller may not see (as for what does not exist), audited as a denial."""
        self.denied(what, "policy")
        return Problem(404, "No such entity", f"no entity {what!r} you may see")


def api_of(request: Request) -> Api:
    a: Api = request.app.state.api
    return a


# The ways in, as OpenAPI security schemes (Swagger's Authorize button): read here, never trusted
# beyond proving a credential the directory knows.
API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="An Argus API key, argus_<id>_<secret>")
BEARER = HTTPBearer(auto_error=False, description="An OIDC access token from a configured issuer")
BASIC = HTTPBasic(auto_error=False, description="TAXII clients: any user name, the API key as password")
SESSION_COOKIE = "argus_session"
SESSION = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, scheme_name="SessionCookie",
    description="The workbench's session (POST /api/v1/session); changes also need X-CSRF-Token",
)  # fmt: skip


def _token(
    key: str | None, bearer: HTTPAuthorizationCredentials | None, basic: HTTPBasicCredentials | None
) -> str | None:
    if key:
        return key
    if bearer is not None:
        return bearer.credentials.strip()
    if basic is not None:
        return basic.password
    return None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _from_session(api: Api, request: Request, token: str, csrf: str | None) -> tuple[Identity, str]:
    s = api.sessions.resolve(token)
    if request.method not in SAFE_METHODS and not api.sessions.csrf_ok(s, csrf):
        raise Problem(403, "CSRF check failed", "a change made with the session cookie needs its X-CSRF-Token")
    who = api.svc.directory().recipient(s.subject, s.role)
    return Identity(s.subject, f"session/{s.method}", who), s.id


def caller(
    request: Request,
    key: Annotated[str | None, Security(API_KEY)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
    basic: Annotated[HTTPBasicCredentials | None, Security(BASIC)] = None,
    x_argus_role: Annotated[
        str | None, Header(max_length=64, description="Which of your roles to act in (default: your first)")
    ] = None,
    session: Annotated[str | None, Security(SESSION)] = None,
    x_csrf_token: Annotated[str | None, Header(include_in_schema=False, max_length=256)] = None,
) -> Caller:
    api = api_of(request)
    source = request.client.host if request.client else None
    token = _token(key, bearer, basic)
    if session is not None and len(session) > 256:
        raise Problem(401, "Not authenticated", "the credentials were not accepted")
    if not token and not session:
        raise Problem(401, "Not authenticated", "send X-API-Key or Authorization: Bearer <token>, or log in")
    directory = api.svc.directory()
    sid = None
    try:
        if token:
            ident = (
                directory.authenticate_key(token, x_argus_role)
                if token.startswith("argus_")
                else directory.authenticate_jwt(token, x_argus_role)
            )
        else:
            ident, sid = _from_session(api, request, session or "", x_csrf_token)
    except (AuthError, IdentityError) as exc:
        login_refused(api, exc, source)
        raise Problem(401, "Not authenticated", "the credentials were not accepted") from None
    if token:
        _first_use(api, token, ident, source)
    who = trained(api, ident.subject, ident.recipient)
    gate = Gate(who, None, directory.rules, directory.barring(who))
    return Caller(who, ident.subject, ident.method, source, gate, api, sid)


def trained(api: Api, subject: str, who: Recipient) -> Recipient:
    """The caller as the policy sees them once their training is counted: a gated course that
    lapsed closes what it gates (argus/workflows/training.py)."""
    return trained_in(api.svc, subject, who)


def trained_in(svc: Any, subject: str, who: Recipient) -> Recipient:
    """`trained` for whoever acts without a request: a playbook acting for the person it runs for."""
    gone = lapsed(svc.cases().training(subject), date.today(), svc.topo.model.api.training_required)
    return dataclasses.replace(who, lapsed=gone) if gone else who


def _first_use(api: Api, token: str, ident: Identity, source: str | None) -> None:
    """A credential's first request to this worker is its login (a session's is its POST)."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    with api.lock:
        first = digest not in api.logged_in
        api.logged_in.add(digest)
    if first:
        login_accepted(api, ident.subject, ident.recipient, source, ident.method)


def login_refused(api: Api, exc: Exception, source: str | None, method: str | None = None) -> None:
    """Every way in audits a refused login alike: whom it claimed to be, if anyone, and why."""
    api.audit.record(
        "login", actor=getattr(exc, "subject", None) or "unknown", agency="-", outcome="denied", source=source,
        reason=str(exc), detail={"method": method} if method else None,
    )  # fmt: skip


def login_accepted(api: Api, subject: str, who: Recipient, source: str | None, method: str) -> None:
    detail = {"method": method} | ({"role": who.role} if method.startswith("session") else {})
    api.audit.record("login", actor=subject, agency=who.agency, source=source, detail=detail)


def optional_caller(
    request: Request,
    key: Annotated[str | None, Security(API_KEY)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
    basic: Annotated[HTTPBasicCredentials | None, Security(BASIC)] = None,
    x_argus_role: Annotated[str | None, Header(max_length=64)] = None,
    session: Annotated[str | None, Security(SESSION)] = None,
    x_csrf_token: Annotated[str | None, Header(include_in_schema=False, max_length=256)] = None,
) -> Caller | None:
    """The caller, or None when no credential (or none still good) came: for asking who is
    logged in, where nobody is an answer rather than an error."""
    try:
        return caller(request, key, bearer, basic, x_argus_role, session, x_csrf_token)
    except Problem as p:
        if p.status == 401:
            return None
        raise


def reader(permission: str) -> Callable[..., Caller]:
    """A dependency: the caller, if their role grants `permission` (else a 403, audited)."""

    def dep(request: Request, c: Annotated[Caller, Depends(caller)]) -> Caller:
        if not c.who.may(permission):
            c.denied(request.url.path, f"role {c.who.role} lacks {permission}")
            raise Problem(403, "Not permitted", f"the role {c.who.role} may not {permission}")
        return c

    return dep


Reader = Annotated[Caller, Depends(reader("read"))]
Officer = Annotated[Caller, Depends(reader("field"))]
Decider = Annotated[Caller, Depends(reader("decide"))]
Submitter = Annotated[Caller, Depends(reader("submit"))]
Subscriber = Annotated[Caller, Depends(reader("subscribe"))]
Auditor = Annotated[Caller, Depends(reader("audit"))]


async def bounded(c: Caller, fn: Callable[..., T], *args: Any) -> T:
    """Run a store read off the event loop, answering 504 after the API's timeout."""
    timeout = c.api.timeout
    try:
        return await asyncio.wait_for(anyio.to_thread.run_sync(fn, *args), timeout)
    except TimeoutError:
        raise Problem(504, "Timed out", f"the query took longer than {timeout:g}s; narrow it") from None
