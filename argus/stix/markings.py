"""TLP as STIX 2.1 marking-definitions: TLP 2.0 (the extension-definition the FIRST/OASIS
common objects publish) and the TLP 1.0 ids partners still send, mapped onto TLP 2.0."""

from __future__ import annotations

from typing import Any

from argus.records import Tlp

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_IDS = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP1_IDS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,  # TLP:WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}
# Every marking-definition id that carries a TLP level, to its TLP 2.0 level.
TLP_MARKINGS: dict[str, Tlp] = {**{v: k for k, v in TLP2_IDS.items()}, **TLP1_IDS}


def marking_definition(tlp: Tlp) -> dict[str, Any]:
    """The TLP 2.0 marking-definition object, exactly as published, for a bundle to carry."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[tlp],
        "created": "2022-10-01T00:00:00.000Z",
        "name": tlp.label,
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp.label[4:].lower()}},
    }


def tlp_of(obj: dict[str, Any]) -> Tlp | None:
    """The most restrictive TLP among an object's object-level markings (None: unmarked)."""
    found = [TLP_MARKINGS[m] for m in obj.get("object_marking_refs") or () if m in TLP_MARKINGS]
    return Tlp.most_restrictive(found) if found else None


def to_tlp2(obj: dict[str, Any]) -> dict[str, Any]:
    """The object with TLP 1.0 marking ids (object-level and granular) replaced by their TLP 2.0
    ids; everything else untouched."""
    refs = obj.get("object_marking_refs")
    granular = obj.get("granular_markings")
    if not any(m in TLP1_IDS for m in refs or ()) and not any(g.get("marking_ref") in TLP1_IDS for g in granular or ()):
        return obj
    out = dict(obj)
    if refs:
        out["object_marking_refs"] = list(dict.fromkeys(TLP2_IDS[TLP1_IDS[m]] if m in TLP1_IDS else m for m in refs))
    if granular:
        out["granular_markings"] = [
            dict(g, marking_ref=TLP2_IDS[TLP1_IDS[g["marking_ref"]]]) if g.get("marking_ref") in TLP1_IDS else g
            for g in granular
        ]
    return out
