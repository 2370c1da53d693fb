// A link chart as a STIX 2.1 bundle: what this reader was shown, with each object marked by the
// most restrictive TLP of the records it came from (TLP 2.0 marking definitions).
import type { Edge, Entity } from "../api/client";

export const TLP_MARKINGS: Record<string, string> = {
  CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
  GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
  AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
  AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
  RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
};
const ORDER = ["CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED"];

export function strictest(tlps: (string | undefined)[]): string {
  let best = "CLEAR";
  for (const t of tlps) {
    const k = (t ?? "").replace(/^TLP:/, "").replace("+", "_");
    if (ORDER.indexOf(k) > ORDER.indexOf(best)) best = k;
  }
  return best;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function sdoType(n: Entity): string {
  if (n.kind === "PERSON") return "identity";
  if (n.kind === "LOCATION") return "location";
  if (n.kind === "EVENT") return "incident";
  return "x-argus-object";
}

export function toStix(nodes: Entity[], edges: Edge[], now = new Date()): Record<string, unknown> {
  const ts = now.toISOString().replace(/\.\d+Z$/, ".000Z");
  const ids = new Map<string, string>();
  const objects: Record<string, unknown>[] = [];
  const tlpOf = (id: string, own?: unknown) =>
    strictest([typeof own === "string" ? own : undefined, ...edges.filter((e) => e.src === id || e.dst === id).map((e) => e.props.tlp)]);
  for (const n of nodes) {
    if (!UUID.test(n.id) || n.access === "existence") continue; // a restricted node says only that it exists
    const type = sdoType(n);
    const id = `${type}--${n.id}`;
    ids.set(n.id, id);
    const o: Record<string, unknown> = {
      type, spec_version: "2.1", id, created: ts, modified: ts, name: n.label,
      object_marking_refs: [TLP_MARKINGS[tlpOf(n.id, n.props.tlp)]],
    };
    if (type === "identity") o.identity_class = "individual";
    if (type === "location") {
      const lat = Number(n.props.lat), lon = Number(n.props.lon);
      if (Number.isFinite(lat) && Number.isFinite(lon)) Object.assign(o, { latitude: lat, longitude: lon });
      else o.region = "northern-america";
      o.description = n.label;
    }
    if (type === "x-argus-object") o.x_argus_subtype = n.subtype;
    objects.push(o);
  }
  for (const e of edges) {
    const s = ids.get(e.src), t = ids.get(e.dst);
    if (!s || !t || !UUID.test(e.id)) continue;
    objects.push({
      type: "relationship", spec_version: "2.1", id: `relationship--${e.id}`, created: ts, modified: ts,
      relationship_type: e.rel.toLowerCase().replace(/_/g, "-"), source_ref: s, target_ref: t,
      description: e.props.reason && e.props.reason !== "withheld" ? e.props.reason : undefined,
      object_marking_refs: [TLP_MARKINGS[strictest([e.props.tlp])]],
    });
  }
  return { type: "bundle", id: `bundle--${crypto.randomUUID()}`, objects };
}
