// Beside the canvas: every node as a list a keyboard can work (select, expand by its "+N"),
// the selected nodes' details, and the paths found with the reason for each edge.
import type { Edge, Entity } from "../api/client";
import { type Chart, restricted } from "../lib/chart";
import { href } from "../lib/route";
import { Access } from "./marks";

interface Props {
  chart: Chart;
  selected: string[];
  pathInfo: Edge[][] | null;
  onToggle: (id: string) => void;
  onExpand: (id: string) => void;
}

export function ChartSide({ chart, selected, pathInfo, onToggle, onExpand }: Props) {
  const sel = selected.map((id) => chart.nodes.get(id)).filter(Boolean) as Entity[];
  return (
    <aside class="side">
      <h2>Nodes ({chart.nodes.size}) <small class="muted">edges {chart.edges.size}</small></h2>
      <ul class="node-list" data-testid="node-list">
        {[...chart.nodes.values()].map((n) => {
          const more = chart.hidden(n.id);
          return (
            <li class={restricted(n) ? "restricted" : ""}>
              <button type="button" aria-pressed={selected.includes(n.id)} onClick={() => onToggle(n.id)}>{n.label}</button>
              {more ? <button type="button" class="badge" onClick={() => onExpand(n.id)} aria-label={`Expand ${n.label}: ${more} more`}>+{more}</button> : null}
            </li>
          );
        })}
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
  );
}
