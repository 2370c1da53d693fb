import { describe, expect, it } from "vitest";
import type { Edge, Entity } from "../api/client";
import { Chart, restrictedSources } from "./chart";

const n = (id: string, degree?: number): Entity => ({ id, kind: "PERSON", subtype: "person", label: id, props: {}, access: "full", degree });
const e = (id: string, src: string, dst: string): Edge => ({ id, src, dst, rel: "KNOWS", props: { reason: "r" } });

describe("Chart", () => {
  it("counts the links not drawn yet, and undoes the last expansion only", () => {
    const c = new Chart();
    c.add("a", [n("a", 3), n("b", 1)], [e("ab", "a", "b")]);
    expect(c.hidden("a")).toBe(2);
    expect(c.hidden("b")).toBe(0);
    c.add("a2", [n("a", 3), n("c", 2), n("d", 1)], [e("ac", "a", "c"), e("ad", "a", "d")]);
    expect(c.hidden("a")).toBe(0);
    expect(c.hidden("c")).toBe(1);
    c.undo();
    expect([...c.nodes.keys()].sort()).toEqual(["a", "b"]);
    expect([...c.edges.keys()]).toEqual(["ab"]);
    expect(c.hidden("a")).toBe(2);
    c.undo();
    expect(c.nodes.size).toBe(0);
    expect(c.undo()).toBeNull();
  });

  it("adds nothing twice and records no empty step", () => {
    const c = new Chart();
    c.add("x", [n("a", 1), n("b", 1)], [e("ab", "a", "b")]);
    c.add("y", [n("a"), n("b")], [e("ab", "a", "b")]);
    expect(c.history.length).toBe(1);
    expect(c.nodes.get("a")?.degree).toBe(1); // an answer without degree keeps the known one
  });

  it("drops an edge whose end is not on the chart", () => {
    const c = new Chart();
    c.add("x", [n("a", 1)], [e("ab", "a", "b")]);
    expect(c.edges.size).toBe(0);
  });

  it("draws an existence-only record as restricted with its contact, and not as a followable link", () => {
    const r = restrictedSources("v1", [
      { record_id: "r9", agency: "CA0200000", tlp: "AMBER_STRICT", access: "existence" },
      { record_id: "r1", agency: "CA0190000", tlp: "AMBER", access: "amber" },
    ]);
    expect(r.nodes.map((x) => x.label)).toEqual(["restricted, contact CA0200000"]);
    const c = new Chart();
    c.add("x", [n("v1", 1), ...r.nodes], r.edges);
    expect(c.hidden("v1")).toBe(1);
  });
});
