import { describe, expect, it } from "vitest";
import type { Edge, Entity } from "../api/client";
import { TLP_MARKINGS, strictest, toStix } from "./stix";

const U = (i: number) => `00000000-0000-4000-8000-00000000000${i}`;
const node = (i: number, kind: string, access = "full"): Entity => ({ id: U(i), kind, subtype: kind.toLowerCase(), label: `n${i}`, props: {}, access: access as Entity["access"] });

describe("a chart as STIX 2.1", () => {
  it("maps entities and links, marked by their strictest source", () => {
    const edges: Edge[] = [
      { id: U(7), src: U(1), dst: U(2), rel: "SUSPECT_VEHICLE", props: { tlp: "AMBER", reason: "listed as suspect" } },
      { id: U(8), src: U(1), dst: U(3), rel: "KNOWS", props: { tlp: "GREEN", reason: "withheld" } },
    ];
    const b = toStix([node(1, "PERSON"), node(2, "OBJECT"), node(3, "EVENT"), node(4, "PERSON", "existence")], edges) as { objects: Record<string, unknown>[] };
    const byId = Object.fromEntries(b.objects.map((o) => [o.id, o]));
    expect(byId[`identity--${U(1)}`].object_marking_refs).toEqual([TLP_MARKINGS.AMBER]);
    expect(byId[`incident--${U(3)}`].object_marking_refs).toEqual([TLP_MARKINGS.GREEN]);
    expect(byId[`identity--${U(4)}`]).toBeUndefined(); // existence only: not exported
    const rel = byId[`relationship--${U(7)}`];
    expect(rel.relationship_type).toBe("suspect-vehicle");
    expect(rel.source_ref).toBe(`identity--${U(1)}`);
    expect(byId[`relationship--${U(8)}`].description).toBeUndefined();
    for (const o of b.objects) expect(o.spec_version).toBe("2.1");
  });

  it("orders TLP levels", () => {
    expect(strictest(["GREEN", "TLP:AMBER+STRICT", "AMBER"])).toBe("AMBER_STRICT");
    expect(strictest([undefined])).toBe("CLEAR");
  });
});
