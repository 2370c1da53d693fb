from __future__ import annotations

import io
import logging

import orjson

from argus import logs
from argus.logs import redact


def test_personal_fields_patterns_and_echoed_input_are_masked() -> None:
    assert redact('{"name": "SMITH, JONATHAN A", "dob": "1991-04-02", "role": "suspect"}') == (
        '{"name": "[redacted]", "dob": "[redacted]", "role": "suspect"}'
    )
    assert redact("{'plate': '8ABC123', 'sex': 'M'}") == "{'plate': \"[redacted]\", 'sex': 'M'}"
    assert redact("persons[0].dob: expected YYYY-MM-DD, got '31/02/1988'") == (
        "persons[0].dob: expected YYYY-MM-DD, got [redacted]"
    )
    assert redact("fled in a grey Civic, CA plate 8ABC123.") == "fled in a grey Civic, CA plate [redacted]."
    assert redact("born 04/02/1991, SSN 123-45-6789, (559) 555-0142, jo@example.org") == (
        "born [redacted], SSN [redacted], [redacted], [redacted]"
    )
    assert redact("plate=8ABC123 name=SMITH node_name=dedup") == "plate=[redacted] name=[redacted] node_name=dedup"


def test_query_strings_keep_switches_and_lose_search_terms() -> None:
    line = '127.0.0.1:5 - "GET /api/v1/search?q=SMITH+JON&tlp=AMBER&limit=20&name=x HTTP/1.1" 200'
    assert (
        redact(line)
        == '127.0.0.1:5 - "GET /api/v1/search?q=[redacted]&tlp=AMBER&limit=20&name=[redacted] HTTP/1.1" 200'
    )


def test_timestamps_and_ids_stay_readable() -> None:
    text = "checkpoint 2026-11-25T11:00:00+00:00 (2026-11-25 11:00:00,123) record RPT-2026-0412 agency CA0190000"
    assert redact(text) == text


def test_json_lines_redact_message_arguments_extras_and_tracebacks() -> None:
    buf = io.StringIO()
    h = logs.handler("json", buf)
    log = logging.getLogger("argus.test.logs")
    log.addHandler(h)
    log.propagate = False
    try:
        log.warning("no match for %s", {"name": "REYES, MARCUS"}, extra={"plate": "8ABC123", "node": "er"})
        try:
            raise ValueError("dob: expected YYYY-MM-DD, got '1994-19-11'")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(h)
    first, second = (orjson.loads(x) for x in buf.getvalue().splitlines())
    assert first["msg"] == "no match for {'name': \"[redacted]\"}"
    assert first["plate"] == "[redacted]" and first["node"] == "er" and first["level"] == "WARNING"
    assert "1994-19-11" not in second["exc"] and "ValueError" in second["exc"]


def test_text_format_redacts_too() -> None:
    buf = io.StringIO()
    h = logs.handler("text", buf)
    log = logging.getLogger("argus.test.text")
    log.addHandler(h)
    log.propagate = False
    try:
        log.error("query for plate %s", "8ABC123")
    finally:
        log.removeHandler(h)
    assert "8ABC123" not in buf.getvalue() and "query for plate [redacted]" in buf.getvalue()
