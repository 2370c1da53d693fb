// Link analysis: start from an entity, expand by relationship type (each node shows "+N" for
// the links it has that are not drawn yet), find paths with the reason for every edge, undo
// expansions, pin and group nodes, export as PNG, SVG or a STIX bundle. A node the reader may
// know of only as existing is drawn as "restricted, contact <agency>". The node list beside the
// chart does everything the canvas does, from the keyboard.
import cytoscape, { type Core, type ElementDefinition } from "cytoscape";
import svg from "cytoscape-svg";
import { useEffect, useRef, useState } from "preact/hooks";
import { type Edge, type Entity, type Neighbourhood, Problem, get } from "../api/client";
import { Access } from "../components/marks";
import { Chart, RESTRICTED, restricted, restrictedSources } from "../lib/chart";
import { download } from "../lib/download";
import { href } from "../lib/route";
import { toStix } from "../lib/stix";

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

const STYLE: cytoscape.StylesheetStyle[] = [
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

export function GraphView({ start }: { start?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const cy = useRef<Core | null>(null);
  const chart = useRef(new Chart());
  const groups = useRef(new Map<string, string>());
  const [, redraw] = useState(0);
  const [selected, setSelected] = useState<string[]>([]);
  const [rel, setRel] = useState("");
  const [pathInfo, setPathInfo] = useState<Edge[][] | null>(null);
  const [error, setError] = useState("");
  const [startId, setStartId] = useState(start ?? "");

  const sync = (fit = false) => {
    const c = cy.current;
    if (!c) return;
    const want = new Set<string>();
    const fresh: ElementDefinition[] = [];
    c.batch(() => {
      for (const el of elements(chart.current, groups.current)) {
        want.add(String(el.data.id));
        const have = c.getElementById(String(el.data.id));
        if (have.nonempty()) have.data("label", el.data.label);
        else fresh.push(el);
      }
      c.elements().filter((el) => !want.has(el.id())).remove();
    });
    if (fresh.length) c.add(fresh);
    if (fresh.length || fit) {
      // force-directed for a readable chart; concentric rings past a few hundred nodes, where a
      // force layout would take the browser minutes
      const big = c.nodes().length > LAYOUT_FORCE_MAX;
      const opts = big ? { name: "concentric", minNodeSpacing: 6 } : { name: "cose", randomize: false };
      c.layout({ ...opts, animate: false, fit: true, padding: 30 } as cytoscape.LayoutOptions).run();
    }
    redraw((x) => x + 1);
  };

  const expand = async (id: string) => {
    setError("");
    try {
      const [nb, profile] = await Promise.all([
        get("/api/v1/entities/{entity_id}/neighbours", { hops: 1, degree: true, limit: 100, rel: rel ? [rel] : undefined },
          { entity_id: id }) as Promise<Neighbourhood>,
        id.startsWith(RESTRICTED) ? null : get("/api/v1/entities/{entity_id}", undefined, { entity_id: id }),
      ]);
      const hidden = restrictedSources(nb.center, profile?.sources ?? []);
      chart.current.add(`expand ${id}`, [...nb.nodes, ...hidden.nodes], [...(nb.edges as unknown as Edge[]), ...hidden.edges]);
      sync();
    } catch (e) {
      setError(e instanceof Problem ? `${e.title}: ${e.detail}` : String(e));
    }
  };

  useEffect(() => {
    // a chart of thousands stays fluid: panning and zooming move a snapshot of the drawing, and
    // labels too small to read at the current zoom are not drawn
    const c = cytoscape({
      container: box.current, style: STYLE, wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 4,
      textureOnViewport: true, pixelRatio: 1,
    });
    cy.current = c;
    c.on("select unselect", () => setSelected(c.$("node:selected").map((n) => n.id())));
    c.on("dbltap", "node", (ev) => expand(ev.target.id()));
    return () => c.destroy();
  }, []);
  useEffect(() => {
    if (start) {
      chart.current = new Chart();
      cy.current?.elements().remove();
      expand(start);
    }
  }, [start]);

  const undo = () => {
    chart.current.undo();
    sync();
  };
  const findPath = async () => {
    const [a, b] = selected;
    try {
      const r = await get("/api/v1/paths", { from: a, to: b, max_hops: 4, limit: 5 });
      const paths = r.paths as unknown as Edge[][];
      chart.current.add(`path ${a} ${b}`, r.nodes, paths.flat());
      sync();
      cy.current?.edges().removeClass("path");
      for (const e of paths.flat()) cy.current?.getElementById(e.id).addClass("path");
      setPathInfo(paths);
    } catch (e) {
      setError(e instanceof Problem ? `${e.title}: ${e.detail}` : String(e));
    }
  };
  const pin = () => cy.current?.$("node:selected").forEach((n) => { n.locked() ? n.unlock() : n.lock(); });
  const group = () => {
    const name = window.prompt("Name this group");
    const c = cy.current;
    if (!name || !c) return;
    const g = `group-${crypto.randomUUID().slice(0, 8)}`;
    groups.current.set(g, name);
    c.add({ data: { id: g, label: name }, classes: "group" });
    c.$("node:selected").not(".group").move({ parent: g });
    redraw((x) => x + 1);
  };
  const ungroup = () => {
    const c = cy.current;
    c?.$("node:selected").forEach((n) => {
      if (n.hasClass("group")) {
        n.children().move({ parent: null });
        groups.current.delete(n.id());
        n.remove();
      } else n.move({ parent: null });
    });
  };
  const png = async () => download("argus-chart.png", (await cy.current?.png({ full: true, output: "blob-promise", bg: "#1b1d21" })) as Blob);
  const svgOut = () => download("argus-chart.svg", new Blob([(cy.current as unknown as { svg: (o: object) => string }).svg({ full: true, bg: "#1b1d21" })], { type: "image/svg+xml" }));
  const stix = () => download("argus-chart.stix.json", new Blob([JSON.stringify(toStix([...chart.current.nodes.values()], [...chart.current.edges.values()]), null, 1)], { type: "application/json" }));

  const ch = chart.current;
  const sel = selected.map((id) => ch.nodes.get(id)).filter(Boolean) as Entity[];
  return (
    <div class="graph">
      <form class="toolbar" aria-label="Link chart" onSubmit={(e) => { e.preventDefault(); if (startId) window.location.hash = href("graph", [startId.trim()]); }}>
        <label>Start from entity<input value={startId} onInput={(e) => setStartId((e.target as HTMLInputElement).value)} maxLength={128} /></label>
        <button type="submit">Open</button>
        <label>Follow<select value={rel} onChange={(e) => setRel((e.target as HTMLSelectElement).value)}>
          <option value="">every relationship</option>
          {ch.relTypes().map((r) => <option value={r}>{r}</option>)}
        </select></label>
        <button type="button" disabled={selected.length !== 1} onClick={() => expand(selected[0])}>Expand</button>
        <button type="button" disabled={selected.length !== 2} onClick={findPath}>Find path</button>
        <button type="button" disabled={!ch.history.length} onClick={undo}>Undo</button>
        <button type="button" disabled={!selected.length} onClick={pin}>Pin</button>
        <button type="button" disabled={selected.length < 2} onClick={group}>Group</button>
        <button type="button" disabled={!selected.length} onClick={ungroup}>Ungroup</button>
        <button type="button" onClick={png}>PNG</button>
        <button type="button" onClick={svgOut}>SVG</button>
        <button type="button" onClick={stix}>STIX</button>
      </form>
      {error && <p role="alert" class="error">{error}</p>}
      <div class="graph-body">
        <div ref={box} class="cy" data-testid="chart" role="img" aria-label="Link chart canvas (the list beside it has every node)" />
        <aside class="side">
          <h2>Nodes ({ch.nodes.size}) <small class="muted">edges {ch.edges.size}</small></h2>
          <ul class="node-list" data-testid="node-list">
            {[...ch.nodes.values()].map((n) => (
              <li class={restricted(n) ? "restricted" : ""}>
                <button type="button" aria-pressed={selected.includes(n.id)} onClick={() => {
                  const el = cy.current?.getElementById(n.id);
                  if (el) el.selected() ? el.unselect() : el.select();
                }}>{n.label}</button>
                {ch.hidden(n.id) ? <button type="button" class="badge" onClick={() => expand(n.id)} aria-label={`Expand ${n.label}: ${ch.hidden(n.id)} more`}>+{ch.hidden(n.id)}</button> : null}
              </li>
            ))}
          </ul>
          {sel.map((n) => (
            <section class="detail">
              <h3>{n.label} <Access access={n.access} /></h3>
              <p class="muted">{n.kind} · {n.subtype}</p>
              {!restricted(n) && <p><a href={href("entity", [n.id])}>Profile</a> · <a href={href("timeline", ["entity", n.id])}>Timeline</a></p>}
            </section>
          ))}
          {pathInfo && (
            <section class="paths" data-testid="paths">
              <h3>Paths ({pathInfo.length})</h3>
              {pathInfo.length === 0 && <p class="muted">No path you may see within 4 links.</p>}
              {pathInfo.map((p) => (
                <ol>{p.map((e) => <li><strong>{e.rel}</strong>: {e.props.reason === "withheld" ? <span class="withheld">reason withheld by marking</span> : e.props.reason ?? ""}</li>)}</ol>
              ))}
            </section>
          )}
        </aside>
      </div>
    </div>
  );
}
