"""The leak harness's generators for the joint-operations routes: cases and their files,
messages, RFIs, training and deconfliction (registered with the others in tests/leak/routes.py).
Changes to seeded items are sent with a stale version: the answer is 409 to whom the item is
shown and 404 to anyone else, and the holdings stay as the forbidden tokens were drawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from argus.security.policy import FULL, decide
from tests.leak.holdings_joint import MEMBERS, addressee, case_id, case_marking
from tests.leak.routes import Ask, Call, Check, route

SOON = (datetime.now(UTC) + timedelta(days=2)).isoformat()


def _some(a: Ask) -> list[int]:
    """The first three reports' items, and one that is none."""
    return [*range(min(3, len(a.world.reports))), 999]


def _ids(i: int) -> tuple[str, ...]:
    """What a refusal may say back of the caller's own request."""
    return (case_id(i), f"FILE-{i:016x}", f"RFI-{i:016x}", f"OP-{i:016x}", f"TASK-{i:016x}")


def case_seen(a: Ask, i: int) -> bool:
    if i >= len(a.world.reports) or a.sid not in MEMBERS or not a.who.may("read"):
        return False
    v = decide(case_marking(i, a.world.reports[i]), a.who, a.world.directory.rules)
    return v is not None and v.level == FULL


def _case_status(i: int, ok: int) -> Check:
    """A read (`ok` 200) answers `ok` to whom the case is shown; a change (`ok` 0: whatever their
    role in the case allows, 409: a stale version) anything but 404 to them. Everyone else: 404."""

    def check(r: httpx.Response, a: Ask) -> None:
        if not a.who.may("read") or (ok != 200 and not a.who.may("submit")):
            return  # refused by role before the case is looked up
        if case_seen(a, i):
            assert r.status_code != 404 and (ok != 200 or r.status_code == 200), (
                a.sid,
                r.request.url.path,
                r.text[:200],
            )
        else:
            assert r.status_code == 404, (a.sid, r.request.url.path, r.status_code, r.text[:200])

    return check


def _case_calls(a: Ask, method: str, tail: str, ok: int, **kw: Any) -> list[Call]:
    """The call on three seeded cases and one that is none; `ok`: the status whom the case is
    shown gets (0: whatever their role in it allows), everyone else 404."""
    return [
        Call(method, f"/api/v1/cases/{case_id(i)}{tail}", check=_case_status(i, ok), echoes=_ids(i), **kw)
        for i in _some(a)
    ]


# --- cases ------------------------------------------------------------------------------------------
@route("POST", "/api/v1/cases")
def _open_case(a: Ask) -> list[Call]:
    return [Call("POST", "/api/v1/cases", json={"title": "harness case"})]


@route("GET", "/api/v1/cases")
def _my_cases(a: Ask) -> list[Call]:
    def exactly_seen(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            got = {c["id"] for c in r.json()["cases"] if c["title"] != "harness case"}
            assert got == {case_id(i) for i in range(len(a.world.reports)) if case_seen(a, i)}, (a.sid, got)

    return [Call("GET", "/api/v1/cases", check=exactly_seen)]


@route("GET", "/api/v1/cases/{case_id}")
def _one_case(a: Ask) -> list[Call]:
    return _case_calls(a, "GET", "", 200)


@route("POST", "/api/v1/cases/{case_id}/members")
def _members(a: Ask) -> list[Call]:
    return _case_calls(a, "POST", "/members", 409, json={"subject": "s1", "role": "analyst", "version": 99})


@route("POST", "/api/v1/cases/{case_id}/status")
def _case_state(a: Ask) -> list[Call]:
    return _case_calls(a, "POST", "/status", 0, json={"status": "CLOSED", "version": 99})


@route("PUT", "/api/v1/cases/{case_id}/chart")
def _chart(a: Ask) -> list[Call]:
    return _case_calls(a, "PUT", "/chart", 0, json={"chart": {"nodes": []}, "version": 99})


@route("POST", "/api/v1/cases/{case_id}/tasks")
def _task(a: Ask) -> list[Call]:
    return _case_calls(a, "POST", "/tasks", 0, json={"title": "harness", "due": SOON})


@route("PUT", "/api/v1/cases/{case_id}/tasks/{task_id}")
def _task_change(a: Ask) -> list[Call]:
    return [
        Call(
            "PUT",
            f"/api/v1/cases/{case_id(i)}/tasks/TASK-{i:016x}",
            json={"title": "harness", "due": SOON, "version": 99},
            echoes=_ids(i),
        )
        for i in _some(a)
    ]


@route("POST", "/api/v1/cases/{case_id}/notes")
def _note(a: Ask) -> list[Call]:
    return _case_calls(a, "POST", "/notes", 0, json={"text": "harness note"})


@route("POST", "/api/v1/cases/{case_id}/links")
def _link(a: Ask) -> list[Call]:
    return [
        Call(
            "POST",
            f"/api/v1/cases/{case_id(0)}/links",
            json={"kind": "record", "ref": f"rec{i:03d}x"},
            echoes=(f"rec{i:03d}x", case_id(0)),
        )
        for i in range(min(3, len(a.world.reports)))
    ]


@route("GET", "/api/v1/cases/{case_id}/activity")
def _activity(a: Ask) -> list[Call]:
    return _case_calls(a, "GET", "/activity", 200)


# --- files ------------------------------------------------------------------------------------------
@route("POST", "/api/v1/cases/{case_id}/files")
def _upload(a: Ask) -> list[Call]:
    return [
        Call(
            "POST",
            f"/api/v1/cases/{case_id(i)}/files",
            params={"name": "h.txt", "reason": "harness"},
            json="harness file",
            echoes=_ids(i),
        )
        for i in _some(a)[:2]
    ]


@route("GET", "/api/v1/cases/{case_id}/files/{file_id}")
def _file(a: Ask) -> list[Call]:
    return [
        Call(
            "GET",
            f"/api/v1/cases/{case_id(i)}/files/FILE-{i:016x}",
            params={"reason": "harness"},
            check=_case_status(i, 200),
            echoes=_ids(i),
        )
        for i in _some(a)
    ]


@route("GET", "/api/v1/cases/{case_id}/files/{file_id}/custody")
def _custody(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/cases/{case_id(i)}/files/FILE-{i:016x}/custody", echoes=_ids(i)) for i in _some(a)]


# --- messages ---------------------------------------------------------------------------------------
@route("POST", "/api/v1/cases/{case_id}/messages")
def _post(a: Ask) -> list[Call]:
    return _case_calls(a, "POST", "/messages", 0, json={"text": "harness message"})


@route("GET", "/api/v1/cases/{case_id}/messages")
def _messages(a: Ask) -> list[Call]:
    return [*_case_calls(a, "GET", "/messages", 200), *_case_calls(a, "GET", "/messages", 200, params={"q": "casem"})]


@route("GET", "/api/v1/cases/{case_id}/messages/stream")
def _stream(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/cases/{case_id(i)}/messages/stream", stream=True, echoes=_ids(i)) for i in _some(a)]


@route("POST", "/api/v1/messages/direct")
def _direct(a: Ask) -> list[Call]:
    return [Call("POST", "/api/v1/messages/direct", json={"to": "s0", "text": "harness dm"})]


@route("GET", "/api/v1/messages/direct")
def _threads(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/messages/direct")]


@route("GET", "/api/v1/messages/direct/{other}")
def _with(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/messages/direct/{o}") for o in ("s0", "s1")]


@route("GET", "/api/v1/messages/direct/{other}/stream")
def _with_stream(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/messages/direct/{o}/stream", stream=True) for o in ("s0", "s1")]


@route("POST", "/api/v1/messages/read")
def _read(a: Ask) -> list[Call]:
    return [
        Call("POST", "/api/v1/messages/read", json={"thread": f"case:{case_id(i)}", "upto": 99}, echoes=_ids(i))
        for i in _some(a)
    ]


# --- RFIs and training ------------------------------------------------------------------------------
def _rfi_status(i: int, ok: int) -> Check:
    def check(r: httpx.Response, a: Ask) -> None:
        if a.who.may("read") and (ok == 200 or a.who.may("submit")):
            party = i < len(a.world.reports) and a.who.agency in (
                a.world.reports[i]["agency"],
                addressee(a.world.reports[i]),
            )
            assert (r.status_code != 404) == party, (a.sid, r.request.url.path, r.status_code)

    return check


@route("POST", "/api/v1/rfis")
def _ask(a: Ask) -> list[Call]:
    return [Call("POST", "/api/v1/rfis", json={"question": "harness?", "addressees": ["CAFC00000"], "due": SOON})]


@route("GET", "/api/v1/rfis")
def _rfis(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/rfis"), Call("GET", "/api/v1/rfis", params={"overdue": "true"})]


@route("GET", "/api/v1/rfis/{rfi_id}")
def _rfi(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/rfis/RFI-{i:016x}", check=_rfi_status(i, 200), echoes=_ids(i)) for i in _some(a)]


@route("POST", "/api/v1/rfis/{rfi_id}/answer")
def _answer(a: Ask) -> list[Call]:
    return [
        Call(
            "POST",
            f"/api/v1/rfis/RFI-{i:016x}/answer",
            json={"answer": "harness", "version": 99},
            check=_rfi_status(i, 409),
            echoes=_ids(i),
        )
        for i in _some(a)
    ]


@route("POST", "/api/v1/rfis/{rfi_id}/close")
def _close(a: Ask) -> list[Call]:
    return [Call("POST", f"/api/v1/rfis/RFI-{i:016x}/close", json={"version": 99}, echoes=_ids(i)) for i in _some(a)]


@route("GET", "/api/v1/training/me")
def _training(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/training/me")]


@route("PUT", "/api/v1/admin/training/{subject}/{course}")
def _record_training(a: Ask) -> list[Call]:
    return [
        Call(
            "PUT",
            "/api/v1/admin/training/s0/privacy",
            json={"completed": "2026-01-01T00:00:00Z", "expires": "2027-01-01T00:00:00Z"},
        )
    ]


@route("GET", "/api/v1/admin/training/due")
def _training_due(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/admin/training/due", params={"days": 365})]


# --- deconfliction ----------------------------------------------------------------------------------
def _op_form(**kw: Any) -> dict[str, Any]:
    return {
        "kind": "raid",
        "title": "harness op",
        "contact_name": "Det. H",
        "contact_phone": "555-0100",
        "start": SOON,
        "end": (datetime.now(UTC) + timedelta(days=2, hours=3)).isoformat(),
        "lat": 36.7,
        "lon": -119.8,
        "radius_m": 100,
    } | kw


@route("POST", "/api/v1/operations")
def _register(a: Ask) -> list[Call]:
    return [Call("POST", "/api/v1/operations", json=_op_form())]


@route("GET", "/api/v1/operations")
def _operations(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/operations")]


@route("GET", "/api/v1/operations/notices")
def _notices(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/operations/notices")]


@route("GET", "/api/v1/operations/{op_id}")
def _operation(a: Ask) -> list[Call]:
    def own_only(i: int) -> Check:
        def check(r: httpx.Response, a: Ask) -> None:
            mine = i < len(a.world.reports) and a.world.reports[i]["agency"] == a.who.agency and a.who.may("read")
            if a.who.may("read"):
                assert (r.status_code == 200) == mine, (a.sid, r.request.url.path, r.status_code)

        return check

    return [Call("GET", f"/api/v1/operations/OP-{i:016x}", check=own_only(i), echoes=_ids(i)) for i in _some(a)]


@route("PUT", "/api/v1/operations/{op_id}")
def _change_op(a: Ask) -> list[Call]:
    return [Call("PUT", f"/api/v1/operations/OP-{i:016x}", json=_op_form(version=99), echoes=_ids(i)) for i in _some(a)]


@route("POST", "/api/v1/operations/{op_id}/cancel")
def _cancel(a: Ask) -> list[Call]:
    return [
        Call("POST", f"/api/v1/operations/OP-{i:016x}/cancel", json={"version": 99}, echoes=_ids(i)) for i in _some(a)
    ]


# --- shifts -----------------------------------------------------------------------------------------
def _shift_ids(a: Ask) -> list[str]:
    return [f"SHIFT-{i:016x}" for i in _some(a)]


@route("POST", "/api/v1/shifts")
def _open_shift(a: Ask) -> list[Call]:
    return [
        Call("POST", "/api/v1/shifts", json={"start": SOON, "end": (datetime.now(UTC) + timedelta(days=3)).isoformat()})
    ]


@route("GET", "/api/v1/shifts")
def _shifts(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/shifts")]


@route("GET", "/api/v1/shifts/{shift_id}")
def _shift(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/shifts/{s}", echoes=(s,)) for s in _shift_ids(a)]


@route("POST", "/api/v1/shifts/{shift_id}/log")
def _shift_log(a: Ask) -> list[Call]:
    return [
        Call("POST", f"/api/v1/shifts/{s}/log", json={"kind": "call", "text": "harness"}, echoes=(s,))
        for s in _shift_ids(a)
    ]


@route("POST", "/api/v1/shifts/{shift_id}/briefing")
def _briefing(a: Ask) -> list[Call]:
    return [Call("POST", f"/api/v1/shifts/{s}/briefing", json={"version": 99}, echoes=(s,)) for s in _shift_ids(a)]


@route("POST", "/api/v1/shifts/{shift_id}/handover")
def _handover(a: Ask) -> list[Call]:
    return [
        Call("POST", f"/api/v1/shifts/{s}/handover", json={"incoming": "s1", "version": 99}, echoes=(s,))
        for s in _shift_ids(a)
    ]


@route("POST", "/api/v1/shifts/{shift_id}/acknowledge")
def _acknowledge(a: Ask) -> list[Call]:
    return [Call("POST", f"/api/v1/shifts/{s}/acknowledge", json={"version": 99}, echoes=(s,)) for s in _shift_ids(a)]


# --- partners ---------------------------------------------------------------------------------------
def _partner_ids(a: Ask) -> list[str]:
    return [f"PTR-{i:016x}" for i in _some(a)]


_PARTNER = {"name": "harness partner", "kind": "community"}


@route("POST", "/api/v1/partners")
def _add_partner(a: Ask) -> list[Call]:
    return [Call("POST", "/api/v1/partners", json=_PARTNER)]


@route("GET", "/api/v1/partners")
def _partners(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/partners")]


@route("GET", "/api/v1/partners/{partner_id}")
def _partner(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/partners/{p}", echoes=(p,)) for p in _partner_ids(a)]


@route("PUT", "/api/v1/partners/{partner_id}")
def _change_partner(a: Ask) -> list[Call]:
    return [Call("PUT", f"/api/v1/partners/{p}", json=_PARTNER | {"version": 99}, echoes=(p,)) for p in _partner_ids(a)]


@route("POST", "/api/v1/partners/{partner_id}/engagements")
def _engage(a: Ask) -> list[Call]:
    body = {"kind": "meeting", "at": SOON, "summary": "harness"}
    return [Call("POST", f"/api/v1/partners/{p}/engagements", json=body, echoes=(p,)) for p in _partner_ids(a)]


@route("GET", "/api/v1/partners/{partner_id}/engagement")
def _engagement(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/partners/{p}/engagement", echoes=(p,)) for p in _partner_ids(a)]
