"""CACAO playbooks end to end: a partner's playbook imports, validates against the official
schemas, exports byte for byte, travels as STIX, is seen only by those its marking allows; an alert
from the pipeline starts it and it sends a real SLPF deny to a real OpenC2 consumer (otupy, HTTPS,
mutual TLS), recording the consumer's 200; a manual step waits for the supervisor it names."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from argus.demo import OFFICER_AGENCY
from argus.playbooks.samples import Builder, block_ip
from argus.playbooks.stix import from_stix
from tests.e2e.conftest import make_workdir
from tests.e2e.test_api import Live

CLOVIS = "CA0100000"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, openc2_consumer: Any) -> Iterator[Live]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ARGUS_OPENC2_CA", openc2_consumer.ca)
        mp.setenv("ARGUS_OPENC2_CLIENT_CERT", openc2_consumer.client_cert)
        mp.setenv("ARGUS_OPENC2_CLIENT_KEY", openc2_consumer.client_key)
        mp.setenv("ARGUS_OPENC2_VERSION", "1.0")  # otupy frames the profile as v1.0's actuator
        lv = Live(make_workdir(tmp_path_factory.mktemp("playbooks"), background=10))
        yield lv
        lv.close()


def settle(client: httpx.Client, ex_id: str, timeout: float = 45) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ex = client.get(f"/api/v1/executions/{ex_id}").json()
        if ex["state"] in ("completed", "failed"):
            return ex
        time.sleep(0.1)
    raise AssertionError(f"execution {ex_id} still {ex['state']}: {ex['steps']}")


def test_a_partner_playbook_round_trips_and_only_its_audience_sees_it(live: Live, openc2_consumer: Any) -> None:
    fresno, clovis = live.client(OFFICER_AGENCY), live.client(CLOVIS)
    doc = block_ip(openc2_consumer.url, tlp="RED")
    doc["labels"] = ["perimeter", "slpf"]  # properties Argus does not act on travel too
    doc["external_references"] = [{"name": "partner SOC runbook", "url": "https://soc.example.org/rb/7"}]
    sent = orjson.dumps(doc, option=orjson.OPT_INDENT_2)
    r = fresno.post("/api/v1/playbooks", content=sent, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["tlp"] == "RED" and r.json()["new"] is True
    again = fresno.post("/api/v1/playbooks", content=sent, headers={"Content-Type": "application/json"})
    assert again.status_code == 200 and again.json()["new"] is False
    changed = orjson.dumps(doc | {"name": "other"})
    assert fresno.post("/api/v1/playbooks", content=changed).status_code == 409
    out = fresno.get(f"/api/v1/playbooks/{doc['id']}/export")
    assert out.content == sent and out.headers["x-argus-marking"] == "TLP:RED"
    stix = fresno.get(f"/api/v1/playbooks/{doc['id']}/export", params={"stix": True}).json()
    assert from_stix(stix) == sent
    # RED: another agency sees nothing of it, not even in a listing or an export
    assert clovis.get(f"/api/v1/playbooks/{doc['id']}").status_code == 404
    assert clovis.get(f"/api/v1/playbooks/{doc['id']}/export").status_code == 404
    assert doc["id"].encode() not in clovis.get("/api/v1/playbooks").content
    # a mutated playbook: the problem names the step and the rule
    bad = block_ip(openc2_consumer.url)
    first = bad["workflow"][bad["workflow_start"]]["on_completion"]
    bad["workflow"][first]["on_success"] = "action--00000000-0000-4000-8000-000000000000"
    r = fresno.post("/api/v1/playbooks", content=orjson.dumps(bad))
    assert r.status_code == 422
    assert {"field": first, "rule": "dangling"} in [{k: e[k] for k in ("field", "rule")} for e in r.json()["errors"]]
    officer = live.client(OFFICER_AGENCY, role="patrol_officer", unit="2A31")
    assert officer.post("/api/v1/playbooks", content=sent).status_code == 403


def test_an_alert_starts_the_playbook_which_denies_at_the_real_consumer(live: Live, openc2_consumer: Any) -> None:
    analyst = live.client(OFFICER_AGENCY)
    doc = block_ip(openc2_consumer.url, address="198.51.100.7", name="Block on a plate hit")
    assert analyst.post("/api/v1/playbooks", content=orjson.dumps(doc)).status_code == 201
    trig = {"kind": "alert", "alert_type": "QUERY_HIT", "bind": {"__alert__": "alert_id"}}
    r = analyst.put(f"/api/v1/playbooks/{doc['id']}/triggers", json={"triggers": [trig]})
    assert r.status_code == 200, r.text
    officer = live.client(OFFICER_AGENCY, role="patrol_officer", unit="2A31")
    hit = officer.post("/api/v1/field/query", json={"query_id": "PB-Q-1", "plate": "8ABC123", "state": "CA"}).json()
    alert = next(a for a in hit["alerts"] if a["alert_type"] == "QUERY_HIT")
    deadline, runs = time.monotonic() + 45, []
    while time.monotonic() < deadline and not runs:
        runs = analyst.get("/api/v1/executions", params={"playbook": doc["id"]}).json()["executions"]
        time.sleep(0.2)
    assert len(runs) == 1 and runs[0]["trigger"]["kind"] == "alert"
    ex = settle(analyst, runs[0]["id"])
    assert ex["state"] == "completed", ex
    assert ex["inputs"] == {"__alert__": alert["alert_id"]}
    deny = next(s for s in ex["steps"] if s["name"] == "deny the address")
    assert deny["outputs"]["__status__"] == "200" and "rule_number" in deny["outputs"]["__results__"]
    sent = deny["detail"]["openc2"]
    assert sent["command"]["action"] == "deny" and sent["response"]["status"] == 200  # the response, kept
    assert sent["response"]["request_id"] == sent["command"]["command_id"]  # correlated to its command
    assert [r["action"] for r in openc2_consumer.rules()].count("deny") >= 1
    assert any("198.51.100.7" in r["target"] for r in openc2_consumer.rules())


def test_a_manual_step_waits_for_the_supervisor_it_names(live: Live) -> None:
    analyst, supervisor = live.client(OFFICER_AGENCY), live.client(OFFICER_AGENCY, role="supervisor")
    b = Builder("Approve and open a case")
    b.var("__approved__", "bool", "false").var("__case__", "string", "").var("__product__", "string", "")
    me = b.agent("group", "supervisor")
    end = b.step("end", "end")
    bolo = {
        "title": "Grey Civic",
        "subject": "Grey Honda Civic CA 8ABC123",
        "on_contact": "Identify only",
        "plate": "8ABC123",
    }
    draft = b.step(
        "action",
        "draft the BOLO",
        agent=me,
        out_args=["__product__"],
        on_completion=end,
        commands=[{"type": "argus", "command": "bolo-draft", "content": orjson.dumps(bolo).decode()}],
    )
    case = b.step(
        "action",
        "open the case",
        agent=me,
        out_args=["__case__"],
        on_completion=draft,
        commands=[{"type": "argus", "command": "open-case", "content": '{"title": "Perimeter block follow-up"}'}],
    )
    gate = b.step("if-condition", "approved?", condition="__approved__:value = true", on_true=case, on_completion=end)
    ask = b.step(
        "action",
        "approve",
        agent=me,
        out_args=["__approved__"],
        on_completion=gate,
        commands=[{"type": "manual", "command": "Approve opening a case"}],
    )
    doc = b.build(b.step("start", "start", on_completion=ask))
    assert analyst.post("/api/v1/playbooks", content=orjson.dumps(doc)).status_code == 201
    ex = analyst.post(f"/api/v1/playbooks/{doc['id']}/executions", json={"variables": {}}).json()
    task: dict = {}
    for _ in range(300):
        open_tasks = [t for t in supervisor.get("/api/v1/playbook-tasks").json()["tasks"] if t["execution"] == ex["id"]]
        if open_tasks:
            task = open_tasks[0]
            break
        time.sleep(0.1)
    assert task["mine"] is True and task["fields"] == {"__approved__": "bool"}
    assert (
        analyst.post(
            f"/api/v1/playbook-tasks/{task['id']}/answer", json={"values": {"__approved__": "true"}}
        ).status_code
        == 403
    )
    bad = supervisor.post(f"/api/v1/playbook-tasks/{task['id']}/answer", json={"values": {"__approved__": "maybe"}})
    assert bad.status_code == 422
    ok = supervisor.post(f"/api/v1/playbook-tasks/{task['id']}/answer", json={"values": {"__approved__": "true"}})
    assert ok.status_code == 200, ok.text
    done = settle(analyst, ex["id"])
    assert done["state"] == "completed" and done["variables"]["__case__"].startswith("CASE-"), done["error"]
    product = analyst.get(f"/api/v1/products/{done['variables']['__product__']}").json()
    assert product["state"] == "DRAFT" and product["type"] == "bolo"  # drafted for a person to publish
    opened = next(s for s in done["steps"] if s["name"] == "open the case")
    assert opened["status"] == "completed"
    asked = next(s for s in done["steps"] if s["name"] == "approve")
    assert asked["detail"]["answered_by"] == f"supervisor-{OFFICER_AGENCY.lower()}-x"  # who answered: in the trace


def test_a_playbook_travels_as_a_stix_course_of_action_over_taxii(live: Live, openc2_consumer: Any) -> None:
    """Fresno publishes its GREEN playbook to the TAXII collection as a course-of-action; Clovis
    reads it there, byte for byte, and runs it as its own agency."""
    from taxii2client.v21 import Server

    fresno, clovis = live.client(OFFICER_AGENCY), live.client(CLOVIS)
    doc = block_ip(openc2_consumer.url, tlp="GREEN", name="Shared over TAXII")
    sent = orjson.dumps(doc)
    assert fresno.post("/api/v1/playbooks", content=sent).status_code == 201
    bundle = fresno.get(f"/api/v1/playbooks/{doc['id']}/export", params={"stix": True}).json()
    key_of = lambda agency: live.keys[(agency, "analyst", None)]  # noqa: E731
    (out,) = Server(live.url + "/taxii2/", user="x", password=key_of(OFFICER_AGENCY)).api_roots[0].collections
    status = out.add_objects(orjson.dumps({"objects": bundle["objects"]}).decode())
    assert status.failure_count == 0, status.failures
    (inbound,) = Server(live.url + "/taxii2/", user="x", password=key_of(CLOVIS)).api_roots[0].collections
    coa: dict = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not coa:
        objs = inbound.get_objects(type=["course-of-action"]).get("objects", [])
        coa = next((o for o in objs if o["id"] == bundle["objects"][0]["id"]), {})
        time.sleep(0.3)
    assert coa, "the course-of-action reached the other agency over TAXII"
    assert from_stix(coa) == sent  # what arrived is what was sent
    r = clovis.post("/api/v1/playbooks", content=orjson.dumps(coa))
    assert r.status_code == 200 and r.json()["new"] is False  # one copy of a version is held, shared by its TLP
    ex = clovis.post(f"/api/v1/playbooks/{doc['id']}/executions", json={"variables": {"__ip__": "203.0.113.9"}})
    assert ex.status_code == 202 and ex.json()["agency"] == CLOVIS  # run by the partner, as its own
