"""The product card's scenario, end to end: the plate stop."""

import orjson

from argus.demo import run_demo


def test_demo_alert_reaches_the_officer_with_path_score_and_redaction(tmp_path) -> None:
    lines: list[str] = []
    result = run_demo(tmp_path, lines.append, background=300)
    alert = result["alert"]
    assert alert["alert_type"] == "QUERY_HIT" and alert["recipient_unit"] == "2A31"
    assert alert["recipient_agency"] == "CA0430000" and alert["level"] == "HIGH"
    top = alert["hits"][0]
    assert top["report_id"] == "RPT-2026-0412" and top["report_agency"] == "CA0190000"
    assert [s["kind"] for s in top["path"]] == ["QUERY", "VEHICLE", "RECORD", "SERIES"]
    assert "ROB-2026-014" in top["path"][-1]["label"]
    assert top["fields"]["vehicles"].startswith("suspect: CA 8ABC123 GRY 2014 HOND CIVIC")
    assert any("robbery" in r for r in top["reasons"])
    # TLP:AMBER to another agency: no names, DOBs, narrative or addresses of the report.
    raw = orjson.dumps(alert, default=str)
    for secret in (b"JONATHAN", b"REYES", b"NGUYEN", b"1991-04-02", b"pharmacy", b"2200 W Shaw"):
        assert secret not in raw, secret
    # TLP:RED task-force record: not in the officer's alert at all; its owner is told instead.
    assert b"NTF-2026-0031" not in raw and b"stash" not in raw
    owners = {n["recipient_agency"] for n in result["notices"]}
    assert owners == {"CA0190000", "CA0100000", "CA0200000"}
    # TLP:AMBER+STRICT from a third agency: that it exists and whom to call, nothing of what it says.
    strict = [h for h in alert["hits"] if h["report_id"] == "RPT-2026-0550"]
    assert strict and strict[0]["access"] == "existence" and "Brooks" in strict[0]["contact"]
    assert b"Road 26" not in raw and b"Witness" not in raw and b"burglary" not in raw
    assert any("NTF-2026-0031" in n["summary"] for n in result["notices"])
    assert result["latency_ms"] < 1000
    assert result["dead_letters"] == 3
    out = "\n".join(lines)
    assert "Alert delivered to unit 2A31" in out and "path:" in out and "withheld by marking" in out
