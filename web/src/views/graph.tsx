// Link analysis: start from an entity, expand by relationship type (each node shows "+N" for
// the links it has that are not drawn yet), find paths with the reason for every edge, undo
// expansions, pin and group nodes, export as PNG, SVG or a STIX bundle. A node the reader may
// know of only as existing is drawn as "restricted, contact <agency>". The node list beside the
// chart does everything the canvas does, from the keyboard.
import cytoscape, { type Core } from "cytoscape";
import { useEffect, useRef, useState } from "preact/hooks";
import { type Edge, type Neighbourhood, Problem, get, put } from "../api/client";
import { ChartSide } from "../components/chart-side";
import { ToCase } from "../components/to-case";
import { Chart, RESTRICTED, restrictedSources } from "../lib/chart";
import { STYLE, draw, exportPng, exportStix, exportSvg } from "../lib/chart-draw";
import { href } from "../lib/route";

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
    if (cy.current) draw(cy.current, chart.current, groups.current, fit);
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
  const png = () => exportPng(cy.current as Core);
  const svgOut = () => exportSvg(cy.current as Core);
  const stix = () => exportStix(chart.current);
  const saveTo = async (c: Record<string, unknown>) => {
    const g = cy.current as Core;
    const nodes = g.nodes().map((n) => ({ id: n.id(), label: n.data("label"), ...n.position() }));
    const edges = g.edges().map((x) => ({ id: x.id(), source: x.source().id(), target: x.target().id(), rel: x.data("rel") }));
    const now = (await get("/api/v1/cases/{case_id}", undefined, { case_id: String(c.id) })) as unknown as { version: number };
    return put(`/api/v1/cases/${c.id}/chart`, { chart: { nodes, edges }, version: now.version });
  };

  const ch = chart.current;
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
        <ToCase label="Save to case" act={saveTo} />
      </form>
      {error && <p role="alert" class="error">{error}</p>}
      <div class="graph-body">
        <div ref={box} class="cy" data-testid="chart" role="img" aria-label="Link chart canvas (the list beside it has every node)" />
        <ChartSide chart={ch} selected={selected} pathInfo={pathInfo} onExpand={expand} onToggle={(id) => {
          const el = cy.current?.getElementById(id);
          if (el) el.selected() ? el.unselect() : el.select();
        }} />
      </div>
    </div>
  );
}
