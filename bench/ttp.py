"""TTP matching precision: `python -m bench ttp [--bundle FILE]`.

A labelled sample built from ATT&CK's own technique descriptions: for every technique, sentences
after the first (the first restates the name) of at least 8 content words become narratives
labelled with that technique. Each is matched against an index built with that sentence left out
of its technique's description (leave-one-out), so a hit needs the technique's other words, not
the sentence itself. Precision = right top-1 / techniques predicted; coverage = right / sample.
Attribution: for every intrusion set using at least 3 techniques, held-out sentences of 3 of them
make a narrative; right when the set is ranked first.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from argus.stix.attack import attack_id
from argus.stix.ttp import TechniqueIndex, strip_citations, words

ROOT = Path(__file__).resolve().parents[1]
BUNDLES = [
    ROOT.parent / "shared" / "data" / "attack" / "ics-attack.json",
    ROOT / "tests/data/stix/attack-ics-sample.json",
]


def sample(objs: list[dict]) -> list[tuple[str, str]]:
    out = []
    for o in objs:
        if o.get("type") != "attack-pattern" or o.get("revoked") or o.get("x_mitre_deprecated"):
            continue
        tid = attack_id(o)
        sents = [x.strip() for x in re.split(r"(?<=\.)\s+", strip_citations(o.get("description", ""))) if x.strip()]
        for sent in sents[1:3]:
            if len(words(sent)) >= 8:
                out.append((tid, sent))
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", type=Path, default=next((b for b in BUNDLES if b.exists()), BUNDLES[-1]))
    args = ap.parse_args(argv)
    objs = json.loads(args.bundle.read_bytes())["objects"]
    labelled = sample(objs)
    t0 = time.perf_counter()
    predicted = right = top3 = 0
    for tid, sent in labelled:
        index = TechniqueIndex.from_objects(objs, exclude={tid: sent})
        got = index.match(sent)
        if got:
            predicted += 1
            right += got[0].attack_id == tid
        top3 += tid in [m.attack_id for m in got[:3]]
    full = TechniqueIndex.from_objects(objs)
    per_tid: dict[str, list[str]] = {}
    for tid, sent in labelled:
        per_tid.setdefault(tid, []).append(sent)
    groups = attributed = 0
    for _sid, (name, used) in sorted(full.groups.items()):
        have = sorted(t for t in used if t in per_tid)
        if len(have) < 3:
            continue
        groups += 1
        text = " ".join(per_tid[t][0] for t in have[:3])
        index = TechniqueIndex.from_objects(objs, exclude={t: per_tid[t][0] for t in have[:3]})
        ranked = index.attribute(index.match(text, top=8))
        attributed += bool(ranked) and ranked[0].name == name
    res = {
        "bundle": args.bundle.name,
        "techniques": len(full.techniques),
        "sample": len(labelled),
        "precision_top1": round(right / predicted, 3) if predicted else None,
        "coverage": round(right / len(labelled), 3) if labelled else None,
        "top3": round(top3 / len(labelled), 3) if labelled else None,
        "groups_tested": groups,
        "attribution_top1": round(attributed / groups, 3) if groups else None,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(res, indent=2))
    print(f"TTP top-1 precision {res['precision_top1']}, coverage {res['coverage']}, top-3 {res['top3']} (measured)")
    return res


if __name__ == "__main__":
    main()
