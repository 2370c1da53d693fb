"""Training records and what they gate. Criminal intelligence needs current 28 CFR 23 training
(28 CFR 23.20(e)'s "need to know and right to know" presumes trained participants) and SAR
vetting needs ISE-SAR training (the ISE-SAR Functional Standard's trained personnel). A course that
has expired removes the access it gates until it is renewed, and the user is told why; where
the site requires training (`api.training_required`), a course never recorded does too.
Reminders go out before a course expires."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

COURSES = {
    "28cfr23": "28 CFR Part 23 (criminal intelligence systems)",
    "privacy": "Privacy, civil rights and civil liberties",
    "ise_sar": "ISE-SAR (suspicious activity reporting)",
    "tlo": "Terrorism liaison officer",
}
GATES = {"28cfr23": "criminal intelligence", "ise_sar": "SAR review and vetting"}
REMIND_DAYS = 30


def lapsed(records: Sequence[dict[str, str]], today: date, required: bool) -> frozenset[str]:
    """The gated courses this user lacks today."""
    latest = {r["course"]: r for r in records}
    out = set()
    for course in GATES:
        r = latest.get(course)
        if (r is None and required) or (r is not None and r["expires"] < today.isoformat()):
            out.add(course)
    return frozenset(out)


def status(records: Sequence[dict[str, str]], today: date, required: bool) -> dict[str, object]:
    """What the user is told: each course, what has lapsed and what it takes away, what expires soon."""
    gone = lapsed(records, today, required)
    soon = (today + timedelta(days=REMIND_DAYS)).isoformat()
    return {
        "courses": [
            r | {"title": COURSES.get(r["course"], r["course"]), "current": r["expires"] >= today.isoformat()}
            for r in records
        ],
        "lapsed": [
            {
                "course": c,
                "title": COURSES[c],
                "removes": GATES[c],
                "why": f"your {COURSES[c]} training is not current: {GATES[c]} is closed to you until it is renewed",
            }
            for c in sorted(gone)
        ],
        "reminders": [
            {
                "course": r["course"],
                "expires": r["expires"],
                "why": f"your {COURSES.get(r['course'], r['course'])} training expires on {r['expires']}",
            }
            for r in records
            if today.isoformat() <= r["expires"] < soon
        ],
    }
