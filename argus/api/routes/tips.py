"""The public tip form's endpoint: no account, so abuse is refused at the door. A tip enters the
SAR review queue marked as a public tip, as the fusion centre's own record; the answer is a
receipt number and never repeats what was sent.

Quotas (sliding, per API process): per address, per browser session (the `argus_tip` cookie),
and for everyone together, so a flood from many addresses cannot bury the reviewers either.
"""

from __future__ import annotations

import secrets
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from argus.api.deps import Problem, api_of, json, refused
from argus.api.models import answers
from argus.api.routes.sars import intake
from argus.api.sar_examples import SAR_EXAMPLES
from argus.api.sar_models import TipForm, TipReceipt
from argus.workflows.sar_intake import Quota
from argus.workflows.sar_review import SarRefused

router = APIRouter(tags=["sar"])
PER_ADDRESS = Quota(5, 3600)
PER_SESSION = Quota(3, 3600)
EVERYONE = Quota(300, 3600)
COOKIE = "argus_tip"
THANKS = "Thank you. Your tip was received and will be reviewed by trained staff."


def _take(request: Request, session: str) -> None:
    address = request.client.host if request.client else "-"
    for quota, key, who in ((EVERYONE, "*", "everyone"), (PER_ADDRESS, address, "your address"),
                            (PER_SESSION, session, "this browser")):  # fmt: skip
        wait = quota.take(key)
        if wait:
            raise Problem(429, "Too many tips", f"too many tips from {who}; try again in {int(wait) + 1} s",
                          retry_after=int(wait) + 1)  # fmt: skip


@router.post("/api/v1/tips", status_code=202, summary="A public tip (no account needed; rate-limited)",
             responses=answers(TipReceipt, SAR_EXAMPLES["tip"], 202), openapi_extra={"security": []})  # fmt: skip
async def tip(request: Request, form: TipForm) -> Any:
    """Anonymous, or with a name and a way to reach you. Plain text only: markup, scripts and
    invisible or direction-changing characters are refused."""
    session = request.cookies.get(COOKIE, "")
    session = session if 16 <= len(session) <= 64 and session.isalnum() else secrets.token_hex(16)
    _take(request, session)
    api = api_of(request)
    source = request.client.host if request.client else None

    def enter() -> Any:
        return intake(api).tip(form.as_form(), source)

    try:
        case = await anyio.to_thread.run_sync(enter)
    except SarRefused as exc:
        raise refused(exc) from None
    out: Response = json({"receipt": case.sar_id, "status": "received", "message": THANKS}, 202)
    out.set_cookie(COOKIE, session, max_age=3600, httponly=True, samesite="strict", secure=True)
    return out
