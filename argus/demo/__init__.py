"""`argus demo`: the plate stop from the product card, end to end on the embedded runtime.

A neighbouring agency (CA0190000) filed a robbery report three days ago: two suspects, a grey
Honda Civic CA 8ABC123, series ROB-2026-014, TLP:AMBER, rated B2. A few hundred other RMS, CAD
and SAR records from seven agencies spell the same people and vehicles differently. Then an
officer of CA0430000 runs `8-ABC 123` at a traffic stop, and the alert must reach that officer
within well under a second, showing only what TLP:AMBER lets another agency see.
"""

from __future__ import annotations

import csv
import re
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from argus.alerts import format_alert
from argus.backends import read_topic
from argus.runtime.core import Runtime
from argus.synthetic import Generator
from argus.topology import load_topology

OWNER, OFFICER_AGENCY, UNIT, OFFICER = "CA0190000", "CA0430000", "2A31", "4471"
QUERY_PLATE = "8-ABC 123"


def scenario(now: datetime) -> dict[str, list[dict[str, Any]]]:
    ago = lambda **kw: (now - timedelta(**kw)).isoformat()  # noqa: E731
    civic = {"make": "HOND", "model": "CIVIC", "colour": "GRY", "year": 2014}
    shaw = {"address": "2200 W Shaw Ave, Fresno, CA", "lat": 36.808312, "lon": -119.826921}
    return {
        "rms": [
            {
                "report_id": "RPT-2026-0412",
                "agency": OWNER,
                "tlp": "TLP:AMBER",
                "reliability": "B",
                "validity": 2,
                "offenses": ["120"],
                "occurred_at": ago(days=3),
                "series_id": "ROB-2026-014",
                "case_owner": "Det. M. Alvarez #4411, Robbery Unit, (559) 555-0142",
                "narrative": "Two suspects entered the Shaw Ave pharmacy, displayed a handgun and took cash "
                "and narcotics. Fled westbound in a grey Honda Civic, CA plate 8ABC123. "
                "Victim employee L. Nguyen uninjured.",
                "persons": [
                    {"role": "suspect", "name": "SMITH, JONATHAN A", "dob": "1991-04-02", "sex": "M", "race": "W"},
                    {"role": "suspect", "name": "REYES, MARCUS", "dob": "1994-11-19", "sex": "M", "race": "H"},
                    {"role": "victim", "name": "NGUYEN, LINDA", "dob": "1979-06-30", "sex": "F", "race": "A"},
                ],
                "vehicles": [{"role": "suspect", "plate": "8ABC123", "state": "CA", **civic}],
                "locations": [dict(shaw, role="offense")],
            },
            {
                "report_id": "RPT-2026-0388",
                "agency": OWNER,
                "tlp": "TLP:AMBER",
                "reliability": "B",
                "validity": 3,
                "offenses": ["120"],
                "occurred_at": ago(days=11),
                "series_id": "ROB-2026-014",
                "case_owner": "Det. M. Alvarez #4411, Robbery Unit, (559) 555-0142",
                "narrative": "Armed robbery of a convenience store on Blackstone Ave; suspect vehicle a grey "
                "Civic, partial plate 8 ABC.",
                "persons": [{"role": "suspect", "name": "Jon Smith", "sex": "M"}],
                "vehicles": [{"role": "suspect", "plate": "8 ABC-123", "state": "CA", "make": "HOND", "colour": "GRY"}],
                "locations": [
                    {
                        "role": "offense",
                        "address": "4410 N Blackstone Avenue, Fresno, CA",
                        "lat": 36.8387,
                        "lon": -119.7902,
                    }
                ],
            },
            {
                "report_id": "NTF-2026-0031",
                "agency": OWNER,
                "tlp": "TLP:RED",
                "reliability": "B",
                "validity": 2,
                "category": "criminal_intelligence",
                "predicate": "narcotics distribution (Cal. H&S 11351)",
                "offenses": ["35A"],
                "occurred_at": ago(days=20),
                "case_owner": "Narcotics Task Force, Sgt. K. Lee",
                "narrative": "Confidential informant places the Civic at a stash house. Do not disseminate.",
                "persons": [{"role": "subject", "name": "SMITH, JONATHAN", "dob": "1991-04-02", "sex": "M"}],
                "vehicles": [{"role": "suspect", "plate": "8ABC123", "state": "CA", **civic}],
                "locations": [],
            },
            {
                # A third agency's report it shares with its own people only: another agency learns
                # that it exists and whom to call, nothing more.
                "report_id": "RPT-2026-0550",
                "agency": "CA0200000",
                "tlp": "TLP:AMBER+STRICT",
                "reliability": "C",
                "validity": 3,
                "offenses": ["220"],
                "occurred_at": ago(days=8),
                "case_owner": "Det. S. Brooks, Property Crimes, (559) 555-0190",
                "narrative": "Witness saw a grey Honda Civic leave the Road 26 burglary; statement on file.",
                "persons": [],
                "vehicles": [{"role": "involved", "plate": "8ABC123", "state": "CA", **civic}],
                "locations": [{"role": "offense", "address": "Road 26, Madera, CA", "lat": 36.9613, "lon": -120.0607}],
            },
        ],
        "sar": [
            {
                "sar_id": "SAR-2026-0107",
                "agency": "CA0100000",
                "tlp": "TLP:GREEN",
                "reliability": "C",
                "validity": 3,
                "behavior": "SURVL",
                "occurred_at": ago(days=5),
                "submitted_by": "Bank security officer via SAR portal",
                "narrative": "Grey Honda Civic with two male occupants photographed the bank's rear doors and "
                "timed the armoured-car delivery.",
                "vehicles": [{"role": "involved", "plate": "8ABC-I23", "state": "CA", "make": "HOND", "colour": "GRY"}],
                "locations": [{"role": "observed", "address": "1901 E Shaw Avenue, Fresno, CA"}],
            },
        ],
        "bad": [
            b'{"report_id": "RPT-BAD-1", "agency": "CA0190000", "tlp": "TLP:PURPLE", "reliability": "B", '
            b'"validity": 2, "offenses": ["120"], "occurred_at": "2026-11-01T10:00:00Z"}\n',
            b'{"report_id": "RPT-BAD-2", "agency": "CA0190000", "category": "criminal_intelligence", '
            b'"tlp": "TLP:AMBER", "offenses": ["35A"], "occurred_at": "2026-11-01T10:00:00Z"}\n',
            b'{"report_id": "RPT-BAD-3", "agency": "CA0190000", "tlp": "TLP:GREEN", "reliab\n',
        ],
    }


def write_inbox(root: Path, now: datetime, background: int = 300, messiness: float = 1.0) -> dict[str, int]:
    """The sample data: the scenario plus `background` generated records, as agencies export them."""
    gen = Generator(
        seed=2026,
        persons=max(40, background),
        vehicles=max(30, background * 3 // 4),
        places=max(15, background // 2),
        anchor=now,
        messiness=messiness,
    )
    sc = scenario(now)
    inbox = root / "inbox"
    for sub in ("rms", "rms_csv", "cad/incidents", "cad/queries", "sar", "stix"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    n_rms, n_cad, n_sar = int(background * 0.5), int(background * 0.35), background - int(background * 0.85)
    rms = list(gen.rms(n_rms))
    with (inbox / "rms" / "export-2026-11.jsonl").open("wb") as fh:
        for r in rms[: n_rms - 20] + sc["rms"]:
            fh.write(orjson.dumps(r) + b"\n")
        for bad in sc["bad"]:
            fh.write(bad)
    cols = [
        "report_id",
        "agency",
        "category",
        "tlp",
        "reliability",
        "validity",
        "predicate",
        "occurred_at",
        "offenses",
        "series_id",
        "case_owner",
        "narrative",
        "person_role",
        "person_name",
        "person_dob",
        "person_sex",
        "person_race",
        "plate",
        "plate_state",
        "vin",
        "make",
        "model",
        "colour",
        "year",
        "address",
        "lat",
        "lon",
    ]
    with (inbox / "rms_csv" / "legacy-rms.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in rms[n_rms - 20 :]:
            p = (r["persons"] or [{}])[0]
            v = (r["vehicles"] or [{}])[0]
            loc = r["locations"][0]
            w.writerow(
                [
                    r["report_id"],
                    r["agency"],
                    r.get("category", ""),
                    r["tlp"],
                    r["reliability"],
                    r["validity"],
                    r.get("predicate", ""),
                    r["occurred_at"],
                    ";".join(r["offenses"]),
                    "",
                    r["case_owner"],
                    r["narrative"],
                    p.get("role", ""),
                    p.get("name", ""),
                    p.get("dob") or "",
                    p.get("sex") or "",
                    p.get("race") or "",
                    v.get("plate") or "",
                    v.get("state") or "",
                    v.get("vin") or "",
                    v.get("make") or "",
                    v.get("model") or "",
                    v.get("colour") or "",
                    v.get("year") or "",
                    loc["address"],
                    loc["lat"],
                    loc["lon"],
                ]
            )
    with (inbox / "cad" / "incidents" / "cad-2026-11.jsonl").open("wb") as fh:
        for r in gen.cad(n_cad):
            fh.write(orjson.dumps(r) + b"\n")
    (inbox / "sar" / "portal-batch-0147.json").write_bytes(orjson.dumps(list(gen.sar(n_sar)) + sc["sar"]))
    return {"rms": n_rms + len(sc["rms"]) + len(sc["bad"]), "cad": n_cad, "sar": n_sar + len(sc["sar"])}


def prepare(workdir: Path) -> Path:
    """A copy of the production topology.yaml (shipped in the package as pipelines/topology.yaml)
    whose inbox and data live in `workdir`."""
    shipped = resources.files("pipelines")
    text = (shipped / "topology.yaml").read_text()
    text = text.replace("include: [pipelines/fusion.yaml]", f"include: [{shipped / 'fusion.yaml'}]")
    text = re.sub(r"(?m)^metrics_port: .*$", "metrics_port: null", text)
    text = re.sub(r"(?m)^data_dir: .*$", "data_dir: var", text)
    out = workdir / "topology.yaml"
    out.write_text(text)
    return out


def run_demo(
    workdir: Path, say: Callable[[str], None] = print, background: int = 300, alert_timeout: float = 10.0
) -> dict[str, Any]:
    if (workdir / "var").exists():
        shutil.rmtree(workdir / "var")
    now = datetime.now(UTC).replace(microsecond=0)
    counts = write_inbox(workdir, now, background)
    topo = load_topology(prepare(workdir))
    say(f"Argus demo in {workdir}")
    say(
        f"  sample data: {counts['rms']} RMS reports (JSON lines and CSV), {counts['cad']} CAD incidents, "
        f"{counts['sar']} SARs from 7 agencies"
    )
    with Runtime(topo) as rt:
        t = time.perf_counter()
        rt.run_until_idle()
        ingest_s = time.perf_counter() - t
        graph, search = rt.stores["graph"].counts(), rt.stores["search"].count()
        dl = rt.read_topic("deadletters")
        say(
            f"  ingested in {ingest_s:.2f}s: {graph['nodes']} entities and {graph['edges']} links in the graph, "
            f"{graph['merged_nodes']} merge(s), {search} documents searchable"
        )
        say(f"  {len(dl)} bad records dead-lettered, nothing else lost:")
        for r in dl:
            say(f"    - {r.value['source']}: {r.value['reason']}")
        bus = rt.bus
        assert bus is not None
        start = {p: bus.end_offset("alerts", p) for p in range(bus.partitions("alerts"))}
        query = {
            "query_id": "Q-20261125-000917",
            "agency": OFFICER_AGENCY,
            "officer_id": OFFICER,
            "unit_id": UNIT,
            "plate": QUERY_PLATE,
            "state": "CA",
            "reason": "traffic stop",
            "location": {"role": "stop", "address": "N Blackstone Ave at E Herndon Ave, Fresno, CA"},
            "issued_at": datetime.now(UTC).isoformat(),
        }
        say("")
        say(f"Officer {OFFICER} (unit {UNIT}, {OFFICER_AGENCY}) runs plate {QUERY_PLATE!r} CA at a traffic stop...")
        t0 = time.perf_counter()
        with (workdir / "inbox" / "cad" / "queries" / "mdt-2A31.jsonl").open("ab") as fh:
            fh.write(orjson.dumps(query) + b"\n")
        alert = None
        notices: list[dict[str, Any]] = []
        while alert is None and time.perf_counter() - t0 < alert_timeout:
            rt.step()
            if any(bus.end_offset("alerts", p) > start[p] for p in start):
                for rec in read_topic(bus, rt.schemas, "alerts", None, start):
                    b = rec.body
                    if b["alert_type"] == "QUERY_HIT" and b["recipient_unit"] == UNIT:
                        alert = b
                    elif b["alert_type"] == "ENCOUNTER_NOTICE":
                        notices.append(b)
        latency_ms = (time.perf_counter() - t0) * 1000
        if alert is None:
            raise RuntimeError(f"no alert reached the officer within {alert_timeout:.0f} s")
        say(
            f"Alert delivered to unit {UNIT} in {latency_ms:.1f} ms (query written to CAD feed -> alert committed "
            "on the alert topic):"
        )
        say("")
        say(format_alert(alert))
        say("")
        say("Owning agencies told of the encounter (two-way notification, deconfliction):")
        for n in notices:
            say(f"  -> {n['recipient_agency']}: {n['summary']}")
        return {
            "alert": alert,
            "notices": notices,
            "latency_ms": latency_ms,
            "dead_letters": len(dl),
            "graph": graph,
            "search_docs": search,
        }
