// A link chart's contents, apart from how it is drawn: what was added in which step (so the
// last expansions can be undone), and how many of a node's links are not on the chart yet (its
// "+N", counted by the API over links this reader may follow).
import type { Edge, Entity } from "../api/client";

export interface Step {
  label: string;
  nodes: string[];
  edges: string[];
}

export class Chart {
  nodes = new Map<string, Entity>();
  edges = new Map<string, Edge>();
  history: Step[] = [];
  private drawn = new Map<string, number>(); // followable links on the chart, per node

  private count(e: Edge, by: number): void {
    if (e.id.startsWith(RESTRICTED)) return;
    for (const end of [e.src, e.dst]) this.drawn.set(end, (this.drawn.get(end) ?? 0) + by);
  }

  add(label: string, nodes: Entity[], edges: Edge[]): Step {
    const step: Step = { label, nodes: [], edges: [] };
    for (const n of nodes) {
      const had = this.nodes.get(n.id);
      if (!had) step.nodes.push(n.id);
      // a later answer may carry the degree an earlier one did not ask for
      this.nodes.set(n.id, had ? { ...had, ...n, degree: n.degree ?? had.degree } : n);
    }
    for (const e of edges) {
      if (!this.nodes.has(e.src) || !this.nodes.has(e.dst)) continue;
      if (!this.edges.has(e.id)) {
        step.edges.push(e.id);
        this.edges.set(e.id, e);
        this.count(e, 1);
      }
    }
    if (step.nodes.length || step.edges.length) this.history.push(step);
    return step;
  }

  /** Take back the last step that added anything; what it added is returned for the view. */
  undo(): Step | null {
    const step = this.history.pop() ?? null;
    if (!step) return null;
    const drop = (id: string) => {
      const e = this.edges.get(id);
      if (!e) return;
      this.count(e, -1);
      this.edges.delete(id);
    };
    for (const id of step.edges) drop(id);
    for (const id of step.nodes) this.nodes.delete(id);
    for (const [id, e] of this.edges) if (!this.nodes.has(e.src) || !this.nodes.has(e.dst)) drop(id);
    return step;
  }

  /** Links of `id` the reader may follow that are not drawn yet; null while unknown. */
  hidden(id: string): number | null {
    const n = this.nodes.get(id);
    if (n?.degree === undefined || n.degree === null) return null;
    return Math.max(0, n.degree - (this.drawn.get(id) ?? 0));
  }

  relTypes(): string[] {
    return [...new Set([...this.edges.values()].map((e) => e.rel))].sort();
  }
}

export function restricted(n: Entity): boolean {
  return n.access === "existence";
}

export const RESTRICTED = "restricted-";

/** A record the reader may know of only as existing becomes a node that says so and whom to
 * call, linked to the entity it mentions; what the record says is not in the answer at all. */
export function restrictedSources(entity: string, sources: Record<string, unknown>[]): { nodes: Entity[]; edges: Edge[] } {
  const nodes: Entity[] = [];
  const edges: Edge[] = [];
  for (const s of sources) {
    if (s.access !== "existence") continue;
    const id = `${RESTRICTED}${String(s.record_id)}`;
    const agency = String(s.agency);
    nodes.push({ id, kind: "EVENT", subtype: "record", label: `restricted, contact ${agency}`, props: { agency, tlp: s.tlp }, access: "existence" });
    edges.push({ id: `${id}-${entity}`, src: id, dst: entity, rel: "RECORD_EXISTS",
      props: { reason: "a record you may not read mentions this entity", agency, tlp: String(s.tlp) } });
  }
  return { nodes, edges };
}
