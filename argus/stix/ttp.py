"""Which ATT&CK techniques a narrative describes, and which intrusion sets use those techniques.

Explainable by construction: a technique's score is the sum of what the text shares with it
(its ATT&CK id named outright; its name as a phrase; the rarer words of its name and description,
weighted by how few techniques use them), and every match lists that evidence. Attribution is
technique overlap: a group scores by the share of the matched techniques it is known to use
(`uses` relationships), weighted by the matches' scores, with the shared techniques as reasons.
No model to train or trust blindly; precision is measured by `python -m bench ttp`.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from argus.stix.attack import attack_id

_WORD = re.compile(r"[a-z][a-z0-9\-]+")
_TID = re.compile(r"\bT\d{4}(?:\.\d{3})?\b")
_CITATION = re.compile(r"\(Citation:[^)]*\)|\[([^\]]+)\]\([^)]*\)")
STOP = frozenset(
    """a about above after again against all also an and any are as at be because been before being
    below between both but by can could did do does doing down during each either etc few for from
    further had has have having he her here hers him his how however i if in into is it its itself
    may might more most must no nor not now of off on once only or other our out over own same she
    should so some such than that the their them then there these they this those through to too
    under until up upon use used uses using very via was we were what when where which while who
    whom why will with within without would you your adversary adversaries attacker attackers
    example examples may include including including often typically such system systems""".split()
)


def words(text: str) -> list[str]:
    out = []
    for w in _WORD.findall(text.lower()):
        if w in STOP or len(w) < 3:
            continue
        out.append(w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w)
    return out


def strip_citations(text: str) -> str:
    """ATT&CK descriptions without their (Citation: ...) marks and with link texts only."""
    return _CITATION.sub(lambda m: m.group(1) or "", text or "")


@dataclass(frozen=True)
class Technique:
    attack_id: str
    stix_id: str
    name: str
    tactics: tuple[str, ...]
    weights: dict[str, float]  # term -> weight in this technique (name terms count 3x)
    norm: float


@dataclass
class Match:
    attack_id: str
    name: str
    score: float
    tactics: list[str]
    evidence: list[str]
    stix_id: str = ""


@dataclass
class Attribution:
    stix_id: str
    name: str
    score: float
    shared: list[str]
    reasons: list[str] = field(default_factory=list)


class TechniqueIndex:
    def __init__(
        self, techniques: list[Technique], groups: dict[str, tuple[str, set[str]]], idf: dict[str, float]
    ) -> None:
        self.techniques = techniques
        self.groups = groups  # intrusion-set stix id -> (name, attack ids it uses)
        self.idf = idf  # term -> inverse document frequency over techniques
        self.by_id = {t.attack_id.upper(): t for t in techniques}
        self.postings: dict[str, list[Technique]] = defaultdict(list)
        for t in techniques:
            for w in t.weights:
                self.postings[w].append(t)

    @classmethod
    def from_objects(cls, objects: Iterable[dict[str, Any]], exclude: dict[str, str] | None = None) -> TechniqueIndex:
        """`exclude`: attack id -> text to leave out of that technique's description (held-out
        evaluation sentences)."""
        objs = [o for o in objects if not o.get("revoked") and not o.get("x_mitre_deprecated")]
        techniques: list[Technique] = []
        stix_to_tid: dict[str, str] = {}
        for o in objs:
            if o.get("type") != "attack-pattern":
                continue
            tid = attack_id(o)
            if tid is None:
                continue
            desc = strip_citations(o.get("description", ""))
            if exclude and tid in exclude:
                desc = desc.replace(exclude[tid], " ")
            weights: Counter[str] = Counter()
            for w in words(o.get("name", "")):
                weights[w] += 3.0
            for w in words(desc):
                weights[w] += 1.0
            w2 = {w: 1.0 + math.log(c) for w, c in weights.items()}
            phases = tuple(p["phase_name"] for p in o.get("kill_chain_phases") or () if "phase_name" in p)
            techniques.append(Technique(tid, o["id"], o.get("name", tid), phases, w2, 0.0))
            stix_to_tid[o["id"]] = tid
        names = {o["id"]: o.get("name", o["id"]) for o in objs if o.get("type") == "intrusion-set"}
        uses: dict[str, set[str]] = defaultdict(set)
        for o in objs:
            if o.get("type") == "relationship" and o.get("relationship_type") == "uses":
                src, dst = o.get("source_ref", ""), o.get("target_ref", "")
                if src in names and dst in stix_to_tid:
                    uses[src].add(stix_to_tid[dst])
        df: Counter[str] = Counter()
        for t in techniques:
            df.update(t.weights.keys())
        n = max(1, len(techniques))
        idf = {w: math.log((1 + n) / (1 + c)) + 1.0 for w, c in df.items()}
        normed = [
            Technique(
                t.attack_id,
                t.stix_id,
                t.name,
                t.tactics,
                t.weights,
                math.sqrt(sum((v * idf[w]) ** 2 for w, v in t.weights.items())) or 1.0,
            )
            for t in techniques
        ]
        return cls(normed, {sid: (names[sid], uses.get(sid, set())) for sid in names}, idf)

    def match(self, text: str, top: int = 5, threshold: float = 0.12) -> list[Match]:
        """Techniques the text describes, best first, each with its evidence."""
        found: dict[str, Match] = {}
        for tid in {m.upper() for m in _TID.findall(text or "")}:
            t = self.by_id.get(tid)
            if t is not None:
                found[tid] = Match(t.attack_id, t.name, 1.0, list(t.tactics), [f"names {t.attack_id}"], t.stix_id)
        toks = words(text or "")
        if not toks:
            return sorted(found.values(), key=lambda m: -m.score)[:top]
        tf = Counter(toks)
        q_norm = math.sqrt(sum((1.0 + math.log(c)) ** 2 * self.idf.get(w, 0.0) ** 2 for w, c in tf.items())) or 1.0
        dots: dict[str, float] = defaultdict(float)
        shared: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for w, c in tf.items():
            idf = self.idf.get(w)
            if idf is None:
                continue
            q = (1.0 + math.log(c)) * idf
            for t in self.postings[w]:
                contrib = q * t.weights[w] * idf
                dots[t.attack_id] += contrib
                shared[t.attack_id].append((contrib, w))
        low = " ".join(toks)
        for tid, dot in dots.items():
            t = self.by_id[tid.upper()]
            score = dot / (q_norm * t.norm)
            name_phrase = " ".join(words(t.name))
            evidence = [f'"{w}"' for _, w in sorted(shared[tid], reverse=True)[:6]]
            if name_phrase and name_phrase in low:
                score = min(1.0, score + 0.3)
                evidence.insert(0, f'names the technique "{t.name}"')
            if score < threshold:
                continue
            have = found.get(tid.upper())
            if have is None or have.score < score:
                found[tid.upper()] = Match(t.attack_id, t.name, round(score, 4), list(t.tactics), evidence, t.stix_id)
            else:  # named outright: keep score 1 and add what else matched
                have.evidence.extend(evidence)
        return sorted(found.values(), key=lambda m: (-m.score, m.attack_id))[:top]

    def attribute(self, matches: list[Match], top: int = 3, threshold: float = 0.2) -> list[Attribution]:
        """Intrusion sets by technique overlap: the matched score mass a group's known techniques
        cover, times how much of the group's repertoire that is (a group using everything explains
        nothing in particular)."""
        if not matches:
            return []
        mass = sum(m.score for m in matches)
        out = []
        for sid, (name, used) in self.groups.items():
            hit = [m for m in matches if m.attack_id in used]
            if not hit or not used:
                continue
            cover = sum(m.score for m in hit) / mass
            focus = len(hit) / len(used)
            score = round(cover * (0.5 + 0.5 * math.sqrt(focus)), 4)
            if score < threshold:
                continue
            reasons = [f"uses {m.attack_id} {m.name} (matched {m.score:.2f})" for m in hit]
            reasons.append(f"{len(hit)} of the {len(matches)} matched techniques; {len(used)} known for {name}")
            out.append(Attribution(sid, name, score, [m.attack_id for m in hit], reasons))
        return sorted(out, key=lambda a: (-a.score, a.name))[:top]
