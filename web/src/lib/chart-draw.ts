// How a link chart is drawn with cytoscape.js, and exported: the view keeps the state, this the
// drawing. Large charts stay usable: concentric rings past a few hundred nodes (a force layout of
// thousands takes the browser minutes), and labels too small to read are not drawn.
import cytoscape, { type Core, type ElementDefinition } from "cytoscape";
import svg from "cytoscape-svg";
import type { Entity } from "../api/client";
import { type Chart, restricted } from "./chart";
import { download } from "./download";
import { toStix } from "./stix";

cytoscape.use(svg);

const LAYOUT_FORCE_MAX = 300;
const COLOURS: Record<string, string> = { PERSON: "#4e9af1", OBJECT: "#f1a94e", LOCATION: "#59c27a", EVENT: "#b07cf0" };

function label(chart: Chart, n: Entity): string {
  const more = chart.hidden(n.id);
  return more ? `${n.label}\n+${more}` : n.label;
}

function elements(chart: Chart, groups: Map<string, string>): ElementDefinition[] {
  const out: ElementDefinition[] = [];
  for (const [g, name] of groups) out.push({ data: { id: g, label: name }, classes: "group" });
  for (const n of chart.nodes.values()) {
    out.push({
      data: { id: n.id, label: label(chart, n), colour: COLOURS[n.kind] ?? "#999" },
      classes: restricted(n) ? "restricted" : n.kind.toLowerCase(),
    });
  }
  for (const e of chart.edges.values()) out.push({ data: { id: e.id, source: e.src, target: e.dst, label: e.rel } });
  return out;
}

export const STYLE: cytoscape.StylesheetStyle[] = [
  { selector: "node", style: { "background-color": "data(colour)", label: "data(label)", color: "#e8e8e8", "font-size": 10,
    "text-wrap": "wrap", "text-max-width": "140px", "text-valign": "bottom", "text-margin-y": 4, width: 26, height: 26,
    "min-zoomed-font-size": 7 } },
  { selector: "node.restricted", style: { "background-color": "#555", "border-style": "dashed", "border-width": 2, "border-color": "#aaa" } },
  { selector: "node:selected", style: { "border-width": 4, "border-color": "#ffd54a" } },
  { selector: "node:locked", style: { shape: "round-rectangle" } },
  { selector: "node.group", style: { "background-opacity": 0.08, "border-width": 1, "border-color": "#888", "text-valign": "top" } },
  { selector: "edge", style: { width: 1.5, "line-color": "#8a8a8a", "target-arrow-shape": "triangle", "target-arrow-color": "#8a8a8a",
    "curve-style": "bezier", label: "data(label)", "font-size": 8, color: "#bbb", "text-rotation": "autorotate",
    "min-zoomed-font-size": 7 } },
  { selector: "edge.path", style: { "line-color": "#ffd54a", "target-arrow-color": "#ffd54a", width: 3 } },
];


/** Brings the drawing in line with the chart: new elements added in one batch, gone ones removed. */
export function draw(c: Core, chart: Chart, groups: Map<string, string>, fit = false): void {
  const want = new Set<string>();
  const fresh: ElementDefinition[] = [];
  c.batch(() => {
    for (const el of elements(chart, groups)) {
      want.add(String(el.data.id));
      const have = c.getElementById(String(el.data.id));
      if (have.nonempty()) have.data("label", el.data.label);
      else fresh.push(el);
    }
    c.elements().filter((el) => !want.has(el.id())).remove();
  });
  if (fresh.length) c.add(fresh);
  if (fresh.length || fit) {
    const big = c.nodes().length > LAYOUT_FORCE_MAX;
    const opts = big ? { name: "concentric", minNodeSpacing: 6 } : { name: "cose", randomize: false };
    c.layout({ ...opts, animate: false, fit: true, padding: 30 } as cytoscape.LayoutOptions).run();
  }
}

const BG = "#1b1d21";

export async function exportPng(c: Core): Promise<void> {
  download("argus-chart.png", (await c.png({ full: true, output: "blob-promise", bg: BG })) as Blob);
}

export function exportSvg(c: Core): void {
  const text = (c as unknown as { svg: (o: object) => string }).svg({ full: true, bg: BG });
  download("argus-chart.svg", new Blob([text], { type: "image/svg+xml" }));
}

export function exportStix(chart: Chart): void {
  const bundle = toStix([...chart.nodes.values()], [...chart.edges.values()]);
  download("argus-chart.stix.json", new Blob([JSON.stringify(bundle, null, 1)], { type: "application/json" }));
}

