"""POLE entity resolution: which person, vehicle, place and event each report is about.

Every entity id is stable and explainable: each ResolvedEntity says how it got its id
(new / exact / fuzzy / deterministic), with a score and a reason, and every merge of two
entities is emitted with its reason so sinks can keep it and an analyst can undo it.

Cost stays linear in the holdings: candidates come only from blocking keys (a vehicle's VIN
and normalised plate; a person's Soundex(last name) + given-name initial and date of birth;
a place's normalised address and ~11 m grid cell).

Field queries (cad.query) are resolved with the same rules but lookup-only: a query never
creates or changes an entity.

**Partitioned by kind.** The index of each kind is disjoint from the others' (a person's blocks,
a vehicle's VIN, plates and aliases, a place's address and grid cell), and no kind's answer
reads another's. So one node may resolve only some kinds (`kinds:` in its config), and a chain
of such nodes gives exactly the record one node resolving every kind gives: the first reads the
report (report.v2) and writes the event, the series and its kinds; each next one reads that
resolved.v2 record and adds its own kinds in their place. Each link of the chain is a task of its
own with its own state and changelog, so on Kafka the index is spread over as many processes as
there are kinds; splitting any one kind further would need every key of a mention in one place
(a vehicle's VIN and plate, a person's name and DOB blocks), which is why the split is by kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import orjson
from pydantic import Field
from rapidfuzz.distance import OSA, JaroWinkler

from argus.chains import chain_view
from argus.contracts import Context, NodeConfig, Processor
from argus.normalize import (
    PersonName,
    address_key,
    first_names_compatible,
    formal_names,
    geo_key,
    parse_name,
    plate_folded,
    plate_key,
    soundex,
    vin_normal,
    vin_valid,
)
from argus.records import REPORT_BRANCH, Record, deterministic_id
from argus.topology import Topology

KIND_OF_STIX = {
    "identity": "PERSON",
    "location": "LOCATION",
    "observed-data": "EVENT",
    "sighting": "EVENT",
    "report": "EVENT",
    "incident": "EVENT",
    "grouping": "EVENT",
}


TITLE = {"rms.incident": "RMS report", "cad.incident": "CAD incident", "sar": "SAR"}
# A resolved record lists the event, then these sections in this order, each in report order.
SECTIONS = ("person", "vehicle", "place", "series")
SECTION_OF = {"person": "person", "vehicle": "vehicle", "address": "place", "series": "series"}
Sections = dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]  # section -> (entity, link from the event)


def source_id_of(body: dict[str, Any]) -> Any:
    return body.get("report_id") or body.get("incident_id") or body.get("sar_id")


SWAPPED = 0.93  # a swap is an error, and on the name alone never enough to merge


def swapped_years(year: str) -> tuple[int, ...]:
    """The birth years a typist's transposition of two adjacent digits makes (1991 as 1919,
    1985 as 1958): where a mention with such a year must also look."""
    out = set()
    for i in (1, 2):
        t = year[:i] + year[i + 1] + year[i] + year[i + 2 :]
        if t != year:
            out.add(int(t))
    return tuple(sorted(out))


def names_agree(n_last: str, n_first: str, last: str, first: str, both_dob: bool) -> tuple[float, str]:
    """How far two names say one person, and why. A missing given name is no evidence either
    way: with both DOBs known the surname carries it (the DOB still has to agree); without, the
    name alone cannot pass. A missing surname is never "the same surname"."""
    if not n_last or not last:
        last_sim, lwhy = 0.5, "a surname missing"
    else:
        last_sim = JaroWinkler.similarity(n_last, last)
        lwhy = "same surname" if last_sim == 1.0 else f"surnames similar ({last_sim:.2f})"
    if not n_first or not first:
        if both_dob and n_last and last:
            return 0.9 * last_sim, f"{lwhy}, a given name missing"
        return 0.55 * last_sim + 0.225, f"{lwhy}, a given name missing"
    if first_names_compatible(n_first, first):
        if n_first == first:
            first_sim, fwhy = 1.0, "same given name"
        elif first in formal_names(n_first) or n_first in formal_names(first) or min(len(first), len(n_first)) == 1:
            first_sim, fwhy = 0.95, "given names compatible (a short or variant form)"
        else:  # two short forms of one name (LIAM, BILLY): with an agreeing DOB only
            first_sim, fwhy = 0.85, "given names two short forms of one name"
    else:
        first_sim = JaroWinkler.similarity(n_first, first)
        fwhy = f"given names similar ({first_sim:.2f})"
    return 0.55 * last_sim + 0.45 * first_sim, f"{lwhy}, {fwhy}"


def fuller_given(held: str, seen: str) -> str:
    """The given name an entity keeps: a fuller form of the same name replaces a short one (JON
    by JONATHAN), a different name never does, so a fuzzy match cannot drift the profile."""
    if not held:
        return seen
    if seen and len(seen) > len(held) and first_names_compatible(seen, held):
        return seen
    return held


def name_evidence(n: PersonName, last: str, first: str, both_dob: bool) -> tuple[float, str, bool]:
    """A mention's name against an entity's, also read the other way round (a given name and
    surname written the wrong way round): the score, why, and whether the swapped reading won."""
    name, why = names_agree(n.last, n.first, last, first, both_dob)
    if n.first and first:
        swapped, swhy = names_agree(n.first, n.last, last, first, both_dob)
        if swapped * SWAPPED > name:
            return swapped * SWAPPED, f"given name and surname swapped: {swhy}", True
    return name, why, False


def dobs_agree(dob: str, pdob: str) -> tuple[float | None, str]:
    """Two DOBs as evidence: the same; day and month swapped; one digit wrong or two adjacent
    digits transposed (1904-01-18 as 1904-10-18, 1991 as 1919); else two people (None)."""
    if dob == pdob:
        return 1.0, "same DOB"
    if dob[:4] == pdob[:4] and dob[5:7] == pdob[8:10] and dob[8:10] == pdob[5:7]:
        return 0.9, "DOB day and month transposed"
    if OSA.distance(dob, pdob) == 1:
        return 0.85, "DOBs differ by one digit or two adjacent digits transposed"
    return None, "DOBs differ"


class EntityResolutionConfig(NodeConfig):
    person_threshold: float = Field(
        default=0.90, ge=0.5, le=1.0, description="Score to match a person when both have a DOB"
    )
    person_threshold_no_dob: float = Field(
        default=0.95,
        ge=0.5,
        le=1.0,
        description="Name score to match when a DOB is missing (and then only a single candidate)",
    )
    max_candidates: int = Field(default=400, ge=10, description="Per blocking key, newest first")
    kinds: list[Literal["person", "vehicle", "place"]] = Field(
        default=["person", "vehicle", "place"],
        min_length=1,
        description="Which POLE kinds this node resolves (a chain of nodes may split them)",
    )


def _add(lst: list[str] | None, item: str, cap: int) -> list[str]:
    lst = list(lst or [])
    if item not in lst:
        lst.append(item)
        if len(lst) > cap:
            lst = lst[-cap:]
    return lst


def _s(v: Any) -> str:
    return "" if v is None else str(v)


def apart_key(a: str, b: str) -> str:
    """State key of a pair an analyst split (order-free)."""
    return f"apart:{min(a, b)}|{max(a, b)}"


class EntityResolutionProcessor(Processor):
    Config = EntityResolutionConfig
    config: EntityResolutionConfig
    accepts = ("report.v2", "resolved.v2", "cad_query.v1", "decision.v2")
    emits = ("resolved.v2", "query_resolved.v2")
    ordered = True  # which report comes first matters: source order (argus/runtime/order.py)

    @classmethod
    def check_topology(cls, name: str, topo: Topology) -> list[str]:
        """Along a chain of these nodes each kind is resolved once, and what leaves the chain
        (a resolved topic read by anything else) has every kind resolved."""
        nodes = topo.nodes
        view = chain_view(cls, name, topo, "resolved.v2")
        problems: list[str] = []
        mine, before = view.mine, view.before
        if mine & before:
            problems.append(f"resolves {', '.join(sorted(mine & before))} again: a node upstream already does")
        done = mine | before
        for t in nodes[name].outputs:
            if topo.topics[t].schema_ != "resolved.v2":
                continue
            readers = [n for n, m in nodes.items() if t in m.inputs and n not in view.members]
            missing = {"person", "vehicle", "place"} - done
            if readers and missing:
                problems.append(
                    f"{t!r} leaves entity resolution for {', '.join(sorted(readers))} with "
                    f"{', '.join(sorted(missing))} never resolved"
                )
        return problems

    def process(self, record: Record, ctx: Context) -> Iterable[Record]:
        kinds = self.config.kinds
        if "decision_id" in record.value:
            if "vehicle" in kinds:  # only vehicles are ever merged
                self._decide(record.value, ctx)
            return []
        if record.envelope["type"] == "cad.query":
            wanted = "vehicle" if record.body["query_type"] == "VEHICLE" else "person"
            return [self._query(record, ctx)] if wanted in kinds else []
        if isinstance(record.body, dict) and "entities" in record.body:
            return [self._more(record, ctx)]
        return [self._report(record, ctx)]

    @staticmethod
    def _decide(decision: dict[str, Any], ctx: Context) -> None:
        """An analyst undid a merge: split the alias and never merge the pair again. The
        merged entity's keys stay with the survivor (the index answers for the newest holder of a
        plate); records already resolved keep the ids they were given."""
        if decision["action"] == "UNMERGE":
            merged, other = decision["entity_id"], decision["other_id"]
            if ctx.state.get(f"alias:{merged}") is not None:
                ctx.state.delete(f"alias:{merged}")
            ctx.state.put(apart_key(merged, other), decision["reason"])

    # --- helpers over state ----------------------------------------------------------------
    @staticmethod
    def _canon(ctx: Context, eid: str) -> str:
        for _ in range(64):
            nxt = ctx.state.get(f"alias:{eid}")
            if nxt is None:
                return eid
            eid = nxt
        return eid

    @staticmethod
    def _entity(
        eid: str,
        kind: str,
        subtype: str,
        display: str,
        role: str,
        keys: dict[str, Any],
        attrs: dict[str, Any],
        method: str,
        score: float,
        reason: str,
    ) -> dict[str, Any]:
        return {
            "entity_id": eid,
            "kind": kind,
            "subtype": subtype,
            "display": display,
            "role": role,
            "keys": {k: str(v) for k, v in keys.items() if v not in (None, "")},
            "attributes": {k: str(v) for k, v in attrs.items() if v not in (None, "")},
            "match_method": method,
            "match_score": round(score, 4),
            "match_reason": reason,
        }

    # --- vehicles ---------------------------------------------------------------------------
    def _vehicle_candidates(
        self, ctx: Context, plate: str | None, state: str | None, vin: str | None
    ) -> list[tuple[str, str, float]]:
        """(entity id, reason, score) in order of strength: VIN, plate+state, plate alone."""
        out: list[tuple[str, str, float]] = []
        if vin and vin_valid(vin):
            e = ctx.state.get(f"vin:{vin}")
            if e:
                out.append((self._canon(ctx, e), f"same VIN {vin} (check digit valid)", 1.0))
        pk = plate_key(plate)
        if pk:
            fold = " after folding O/0 and I/1" if plate and plate_folded(plate) else ""
            shown = f"plate {plate!r} normalised to {pk}{fold}"
            if state:
                e = ctx.state.get(f"pl:{state}:{pk}")
                if e:
                    out.append((self._canon(ctx, e), f"{shown}, state {state}: exact", 1.0 if not fold else 0.97))
            else:
                ids = {self._canon(ctx, e) for e in ctx.state.get(f"pn:{pk}", [])}
                if len(ids) == 1:
                    out.append((ids.pop(), f"{shown}; state missing, one vehicle on file with it", 0.9))
        return out

    def _vehicle(self, ctx: Context, v: dict[str, Any], record_id: str, merges: list[dict[str, Any]]) -> dict[str, Any]:
        vin = vin_normal(v.get("vin"))
        good_vin = vin if vin and vin_valid(vin) else None
        state = v.get("plate_state")
        pk = plate_key(v.get("plate"))
        cands = self._vehicle_candidates(ctx, v.get("plate"), state, vin)
        # A plate moves between vehicles over time: a plate hit whose VIN differs is another car.
        if good_vin:
            cands = [c for c in cands if ctx.state.get(f"vv:{c[0]}") in (None, good_vin)]
        note = "" if not vin or good_vin else f"; VIN {vin} fails its check digit, not used to match"
        if not cands:
            eid = (
                deterministic_id("vehicle", good_vin)
                if good_vin
                else deterministic_id("vehicle", state or "??", pk or "")
            )
            method, score, reason = "new", 1.0, "no vehicle on file with this VIN or plate" + note
        else:
            eid, reason, score = cands[0]
            method = "exact" if score >= 1.0 else "fuzzy"
            reason += note
            for other, why, sc in cands[1:]:
                if other != eid and ctx.state.get(apart_key(eid, other)) is None:
                    merges.append(
                        {
                            "survivor_id": eid,
                            "merged_id": other,
                            "score": sc,
                            "reason": f"record {record_id}: {reason} and {why}",
                        }
                    )
                    ctx.state.put(f"alias:{other}", eid)
        if good_vin:
            ctx.state.put(f"vin:{good_vin}", eid)
            ctx.state.put(f"vv:{eid}", good_vin)
        if pk:
            if state:
                ctx.state.put(f"pl:{state}:{pk}", eid)
            ctx.state.put(f"pn:{pk}", _add(ctx.state.get(f"pn:{pk}"), eid, 16))
        desc = " ".join(x for x in (_s(v.get("colour")), _s(v.get("year")), _s(v.get("make")), _s(v.get("model"))) if x)
        plate_txt = f"{state or '??'} {pk}" if pk else f"VIN {vin}"
        return self._entity(
            eid,
            "OBJECT",
            "vehicle",
            f"{plate_txt} {desc}".strip(),
            v["role"],
            {"plate_key": pk, "plate_state": state, "vin": good_vin},
            {
                "plate": v.get("plate"),
                "plate_state": state,
                "vin": vin,
                "year": v.get("year"),
                "make": v.get("make"),
                "model": v.get("model"),
                "colour": v.get("colour"),
            },
            method,
            score,
            reason,
        )

    # --- persons ----------------------------------------------------------------------------
    @staticmethod
    def _name_keys(n: PersonName) -> set[str]:
        sx = soundex(n.last)
        return {f"pb:{sx}{f[0]}" for f in formal_names(n.first) if f} or {f"pb:{sx}"}

    @classmethod
    def _index_blocks(cls, n: PersonName, dob: str | None) -> list[str]:
        """Where an entity is filed: its name key; with a DOB also name key + birth year and
        the exact DOB; without one, the name key's small no-DOB block."""
        names = cls._name_keys(n)
        keys = set(names)
        if dob:
            keys.update(f"{k}:{dob[:4]}" for k in names)
            keys.add(f"pb:d{dob}")
        else:
            keys.update(f"{k}:-" for k in names)
        return sorted(keys)

    @classmethod
    def _query_blocks(cls, n: PersonName, dob: str | None) -> list[str]:
        """Where a mention looks. With a DOB: name key + birth year (and the years either side,
        for a mistyped year), the exact DOB (a misspelt surname), and the no-DOB block; so the
        cost stays flat as holdings grow. Without a DOB: every entity filed under the name."""
        names = cls._name_keys(n)
        if not dob:
            return sorted(names)
        year = int(dob[:4])
        keys = {f"{k}:{y}" for k in names for y in (year - 1, year, year + 1, *swapped_years(dob[:4]))}
        keys.update(f"{k}:-" for k in names)
        keys.add(f"pb:d{dob}")
        return sorted(keys)

    @staticmethod
    def _score(n: PersonName, dob: str | None, sex: str | None, prof: list[Any]) -> tuple[float, float, str] | None:
        """(score, name score, reason), or None when the two cannot be one person. The reason
        never quotes the other mention's values: it is shown with this record, and the record
        the candidate came from may be one its reader may not see."""
        last, first, _middle, pdob, psex = prof
        if sex and psex and sex != psex and "U" not in (sex, psex):
            return None
        name, nwhy, _swapped = name_evidence(n, last, first, bool(dob and pdob))
        if dob and pdob:
            d, dwhy = dobs_agree(dob, pdob)
            if d is None:
                return None
            return 0.8 * name + 0.2 * d, name, f"{nwhy}, {dwhy}"
        return name, name, f"{nwhy}, DOB missing on one side"

    def _person_candidates(
        self, ctx: Context, n: PersonName, dob: str | None, sex: str | None
    ) -> tuple[list[tuple[float, str, str, bool]], dict[str, bool]]:
        """Candidates passing the thresholds, best first, and whether each has a DOB on file."""
        cap = self.config.max_candidates
        seen: set[str] = set()
        scored: list[tuple[float, str, str, bool]] = []
        has_dob: dict[str, bool] = {}
        for b in self._query_blocks(n, dob):
            for e in reversed(ctx.state.get(b, [])[-cap:]):
                e = self._canon(ctx, e)
                if e in seen:
                    continue
                seen.add(e)
                prof = ctx.state.get(f"p:{e}")
                if prof is None:
                    continue
                r = self._score(n, dob, sex, prof)
                if r is None:
                    continue
                score, name_score, why = r
                both_dob = bool(dob and prof[3])
                has_dob[e] = bool(prof[3])
                ok = (
                    score >= self.config.person_threshold
                    if both_dob
                    else name_score >= self.config.person_threshold_no_dob
                )
                if ok:
                    scored.append((score, e, why, both_dob))
        scored.sort(key=lambda x: (-x[0], x[1]))
        return scored, has_dob

    def _pick_person(
        self, scored: list[tuple[float, str, str, bool]], has_dob: dict[str, bool]
    ) -> tuple[float, str, str] | None:
        """Evidence order: a candidate whose DOB agrees beats any name-only candidate. On the
        name alone (one side has no DOB) only an unambiguous candidate is taken, judged first
        among entities whose DOB is known, then among those without one; ambiguity makes a new
        entity rather than a guess."""
        if not scored:
            return None
        with_dob = [x for x in scored if x[3]]
        if with_dob:
            best = with_dob[0]
            return best[0], best[1], best[2]
        for tier in ([x for x in scored if has_dob.get(x[1])], [x for x in scored if not has_dob.get(x[1])]):
            if len(tier) == 1:
                return tier[0][0], tier[0][1], tier[0][2] + "; the only candidate"
            if len(tier) > 1:
                return None
        return None

    def _person(self, ctx: Context, p: dict[str, Any], record_id: str, idx: int) -> dict[str, Any]:
        n = parse_name(p["name"])
        dob, sex = p.get("dob"), p.get("sex")
        picked = self._pick_person(*self._person_candidates(ctx, n, dob, sex))
        if picked is None:
            eid = deterministic_id("person", n.last, n.first, dob) if dob else ""
            if not eid or ctx.state.get(f"p:{eid}") is not None:
                # No DOB, or the natural id is taken by someone this record is not (e.g. the
                # sex conflicts): an id of its own, still the same on every replay.
                eid = deterministic_id("person", n.last, n.first, dob or "", record_id, str(idx))
            method, score, reason = "new", 1.0, "no matching person on file"
            prof = [n.last, n.first, n.middle, dob, sex]
        else:
            score, eid, reason = picked
            method = "exact" if score >= 0.999 else "fuzzy"
            old = ctx.state.get(f"p:{eid}")
            if name_evidence(n, old[0], old[1], bool(dob and old[3]))[2]:  # file it as it should have been written
                n = PersonName(n.first, n.last, n.middle)
            prof = [
                old[0],
                fuller_given(old[1], n.first),
                old[2] or n.middle,
                old[3] or dob,
                old[4] or sex,
            ]
        if prof != ctx.state.get(f"p:{eid}"):
            ctx.state.put(f"p:{eid}", prof)
        for b in set(self._index_blocks(PersonName(prof[0], prof[1], prof[2]), prof[3])) | set(
            self._index_blocks(n, dob)
        ):
            lst = ctx.state.get(b)
            if not lst or lst[-1] != eid:
                ctx.state.put(b, _add(lst, eid, 4 * self.config.max_candidates))
        return self._entity(
            eid,
            "PERSON",
            "person",
            n.display,
            p["role"],
            {"name_key": n.key, "dob": dob, "soundex": soundex(n.last)},
            {"name": p["name"], "dob": dob, "sex": sex, "race": p.get("race")},
            method,
            score,
            reason,
        )

    # --- locations, events --------------------------------------------------------------------
    def _location(self, ctx: Context, loc: dict[str, Any]) -> dict[str, Any]:
        ak = address_key(loc.get("address"))
        gk = geo_key(loc.get("lat"), loc.get("lon"))
        eid = None
        reason = "new place"
        method = "new"
        if ak and ctx.state.get(f"addr:{ak}"):
            eid, reason, method = ctx.state.get(f"addr:{ak}"), f"same normalised address {ak}", "exact"
        elif gk and ctx.state.get(f"geo:{gk}"):
            eid, reason, method = ctx.state.get(f"geo:{gk}"), f"same ~11 m cell {gk}", "exact"
        if eid is None:
            eid = deterministic_id("location", ak or gk or "")
        if ak and ctx.state.get(f"addr:{ak}") is None:
            ctx.state.put(f"addr:{ak}", eid)
        if gk and ctx.state.get(f"geo:{gk}") is None:
            ctx.state.put(f"geo:{gk}", eid)
        return self._entity(
            eid,
            "LOCATION",
            "address",
            loc.get("address") or gk or "",
            loc["role"],
            {"address_key": ak, "geo": gk},
            {"address": loc.get("address"), "lat": loc.get("lat"), "lon": loc.get("lon")},
            method,
            1.0,
            reason,
        )

    # --- reports ----------------------------------------------------------------------------
    @staticmethod
    def _link(src: str, rel: str, dst: str, why: str) -> dict[str, Any]:
        return {
            "link_id": deterministic_id("link", src, rel, dst),
            "from_id": src,
            "to_id": dst,
            "relation": rel,
            "reason": why,
        }

    def _resolve_kinds(
        self,
        ctx: Context,
        env: dict[str, Any],
        body: dict[str, Any],
        event_id: str,
        sections: Sections,
        merges: list[dict[str, Any]],
    ) -> None:
        """Resolve this node's kinds of the report's mentions into their sections, each an
        (entity, link from the event) pair in the order the report lists them."""
        rid, rtype = env["id"], env["type"]
        where = f"{TITLE[rtype]} {source_id_of(body)}"
        kinds = self.config.kinds
        if "person" in kinds:
            for i, p in enumerate(body.get("persons", [])):
                ent = self._person(ctx, p, rid, i)
                link = self._link(event_id, p["role"].upper(), ent["entity_id"], f"{where} names a {p['role']}")
                sections["person"].append((ent, link))
        if "vehicle" in kinds:
            for v in body.get("vehicles", []):
                ent = self._vehicle(ctx, v, rid, merges)
                rel = "SUSPECT_VEHICLE" if v["role"] == "suspect" else f"VEHICLE_{v['role'].upper()}"
                link = self._link(event_id, rel, ent["entity_id"], f"{where} lists the vehicle as {v['role']}")
                sections["vehicle"].append((ent, link))
        if "place" in kinds:
            for loc in body.get("locations", []):
                ent = self._location(ctx, loc)
                link = self._link(
                    event_id, f"AT_{loc['role'].upper()}", ent["entity_id"], f"{where} location ({loc['role']})"
                )
                sections["place"].append((ent, link))

    @staticmethod
    def _resolved(
        record: Record,
        report: dict[str, Any],
        event_id: str,
        event: dict[str, Any],
        sections: Sections,
        merges: list[dict[str, Any]],
    ) -> Record:
        """The resolved record: the event, then each section in SECTIONS order, so a chain of
        nodes writes exactly what one node resolving every kind writes."""
        env = record.envelope
        pairs = [pair for name in SECTIONS for pair in sections[name]]
        return Record(
            {
                "envelope": env,
                "body": {
                    "report": (REPORT_BRANCH[env["type"]], report),
                    "event_id": event_id,
                    "entities": [event, *(e for e, _ in pairs)],
                    "links": [link for _, link in pairs],
                    "merges": merges,
                },
            },
            key=env["id"],
            topic="resolved.v2",
        )

    def _report(self, record: Record, ctx: Context) -> Record:
        env, body = record.envelope, record.body
        rtype, agency = env["type"], env["source_agency"]
        if rtype == "stix":
            return stix_resolved(record)
        source_id = source_id_of(body)
        subtype = {"rms.incident": "incident", "cad.incident": "cad_incident", "sar": "sar"}[rtype]
        event_id = deterministic_id("event", agency, rtype, source_id)
        when = body.get("occurred_at") or body.get("received_at")
        title = TITLE[rtype]
        event = self._entity(
            event_id,
            "EVENT",
            subtype,
            f"{title} {agency} {source_id}",
            "report",
            {"agency": agency, "source_id": source_id},
            {
                "occurred_at": when.isoformat() if when else None,
                "offenses": ",".join(body.get("offenses", [])) or None,
                "behavior": body.get("behavior"),
                "call_type": body.get("call_type"),
            },
            "deterministic",
            1.0,
            "event id from agency and report id",
        )
        sections: Sections = {name: [] for name in SECTIONS}
        series = body.get("series_id")
        if series:
            sid = deterministic_id("series", series.upper())
            ent = self._entity(
                sid,
                "EVENT",
                "series",
                f"series {series}",
                "series",
                {"series_id": series.upper()},
                {},
                "deterministic",
                1.0,
                "series id as assigned by the investigating agency",
            )
            link = self._link(event_id, "PART_OF_SERIES", sid, f"{title} {source_id} is assigned to series {series}")
            sections["series"].append((ent, link))
        merges: list[dict[str, Any]] = []
        self._resolve_kinds(ctx, env, body, event_id, sections, merges)
        return self._resolved(record, body, event_id, event, sections, merges)

    def _more(self, record: Record, ctx: Context) -> Record:
        """A report an earlier node of the chain resolved: add this node's kinds. Entities
        after the event pair up with the links in order (one link from the event to each)."""
        env, body = record.envelope, record.body
        report = body["report"]
        if env["type"] == "stix":  # resolved whole by the first node (stix_resolved)
            value = {"envelope": env, "body": dict(body, report=(REPORT_BRANCH["stix"], report))}
            return Record(value, key=env["id"], topic="resolved.v2")
        event, *rest = body["entities"]
        if len(rest) != len(body["links"]):
            raise ValueError(
                f"resolved record {env['id']}: {len(rest)} entities besides the event but {len(body['links'])} "
                "links; it was not written by entity resolution"
            )
        sections: Sections = {name: [] for name in SECTIONS}
        for ent, link in zip(rest, body["links"], strict=True):
            name = SECTION_OF.get(ent["subtype"])
            if name is None:
                raise ValueError(f"resolved record {env['id']}: entity subtype {ent['subtype']!r} is not a mention")
            if name in self.config.kinds:
                raise ValueError(
                    f"resolved record {env['id']}: its {name} mentions were resolved upstream already; "
                    "each kind must be resolved by one node of the chain"
                )
            sections[name].append((ent, link))
        merges = list(body.get("merges", []))
        self._resolve_kinds(ctx, env, report, body["event_id"], sections, merges)
        return self._resolved(record, report, body["event_id"], event, sections, merges)

    # --- field queries (lookup only) -----------------------------------------------------------
    def _query(self, record: Record, ctx: Context) -> Record:
        q = record.body
        matches: list[dict[str, Any]] = []
        if q["query_type"] == "VEHICLE":
            vin = vin_normal(q.get("vin"))
            seen: set[str] = set()
            for eid, why, score in self._vehicle_candidates(ctx, q.get("plate"), q.get("plate_state"), vin):
                if eid in seen:
                    continue
                seen.add(eid)
                pk = plate_key(q.get("plate"))
                matches.append(
                    self._entity(
                        eid,
                        "OBJECT",
                        "vehicle",
                        f"{q.get('plate_state') or '??'} {pk}",
                        "queried",
                        {"plate_key": pk, "vin": vin},
                        {},
                        "exact" if score >= 1.0 else "fuzzy",
                        score,
                        why,
                    )
                )
        else:
            n = parse_name(q["name"])
            scored, has_dob = self._person_candidates(ctx, n, q.get("dob"), None)
            picked = self._pick_person(scored, has_dob)
            # A name and DOB may fit several people on file (a field query shows them all); a
            # name alone is shown only when it is unambiguous.
            chosen = [(s, e, w) for s, e, w, both in scored[:3] if both] if q.get("dob") else []
            if not chosen and picked:
                chosen = [picked]
            for score, eid, why in chosen:
                matches.append(
                    self._entity(
                        eid,
                        "PERSON",
                        "person",
                        n.display,
                        "queried",
                        {"name_key": n.key, "dob": q.get("dob")},
                        {},
                        "exact" if score >= 0.999 else "fuzzy",
                        score,
                        why,
                    )
                )
        return Record(
            {"envelope": record.envelope, "body": {"query": q, "matches": matches}},
            key=record.key,
            topic="query_resolved.v2",
        )


def stix_resolved(record: Record, obj: dict[str, Any] | None = None) -> Record:
    """A STIX object as entity resolution emits it (stateless, so the bulk import path in
    pipelines/stix_bulk.py calls it too): relationships and sightings become links, the rest an
    entity whose POLE kind follows its type."""
    env, body = record.envelope, record.body
    if obj is None:
        obj = orjson.loads(body["object_json"])
    sid, stype = body["stix_id"], body["stix_type"]
    entities, links = [], []
    if stype == "relationship":
        src, dst = obj.get("source_ref"), obj.get("target_ref")
        if src and dst:
            rel = str(obj.get("relationship_type", "related-to")).upper().replace("-", "_")
            links.append(
                {
                    "link_id": deterministic_id("link", src, rel, dst),
                    "from_id": src,
                    "to_id": dst,
                    "relation": rel,
                    "reason": f"STIX relationship {sid}",
                }
            )
    elif stype == "sighting":
        for ref in obj.get("observed_data_refs", []) or []:
            links.append(
                {
                    "link_id": deterministic_id("link", sid, "OBSERVED", ref),
                    "from_id": sid,
                    "to_id": ref,
                    "relation": "OBSERVED",
                    "reason": f"STIX sighting {sid}",
                }
            )
        if obj.get("sighting_of_ref"):
            ref = obj["sighting_of_ref"]
            links.append(
                {
                    "link_id": deterministic_id("link", sid, "SIGHTING_OF", ref),
                    "from_id": sid,
                    "to_id": ref,
                    "relation": "SIGHTING_OF",
                    "reason": f"STIX sighting {sid}",
                }
            )
    if stype != "relationship":
        kind = KIND_OF_STIX.get(stype, "OBJECT")
        if stype == "identity" and obj.get("identity_class") not in (None, "individual"):
            kind = "OBJECT"
        label = obj.get("name") or obj.get("value") or sid
        ext = [r.get("external_id") for r in obj.get("external_references", []) if r.get("external_id")]
        entities.append(
            EntityResolutionProcessor._entity(
                sid,
                kind,
                stype,
                str(label)[:200],
                "stix",
                {"stix_id": sid, "external_id": ext[0] if ext else None},
                {"modified": body.get("modified")},
                "deterministic",
                1.0,
                "STIX identifier",
            )
        )
    return Record(
        {
            "envelope": env,
            "body": {
                "report": ("argus.StixObject", body),
                "event_id": sid,
                "entities": entities,
                "links": links,
                "merges": [],
            },
        },
        key=env["id"],
        topic="resolved.v2",
    )
