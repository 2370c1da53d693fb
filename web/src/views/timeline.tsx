// The timeline of an entity (every record that mentions it) or of a series, as far as the
// reader may know of them, on one time axis with the list beneath.
import { useEffect, useState } from "preact/hooks";
import { type SearchHit, Problem, get } from "../api/client";
import { Access, Snippet, Tlp } from "../components/marks";
import { href } from "../lib/route";

const W = 900, H = 70;

export function TimelineView({ kind, id }: { kind?: string; id?: string }) {
  const [events, setEvents] = useState<SearchHit[] | null>(null);
  const [title, setTitle] = useState("");
  const [error, setError] = useState("");
  const [series, setSeries] = useState("");
  useEffect(() => {
    if (!kind || !id) return;
    setEvents(null);
    setError("");
    const got = kind === "series"
      ? get("/api/v1/cases/{series}/timeline", { limit: 500 }, { series: id }).then((t) => { setTitle(`Series ${id}`); return t.events; })
      : get("/api/v1/entities/{entity_id}/timeline", { limit: 500 }, { entity_id: id }).then((t) => { setTitle(t.entity.label); return t.events; });
    got.then(setEvents, (e) => setError(e instanceof Problem ? `${e.title}: ${e.detail}` : String(e)));
  }, [kind, id]);
  const dated = (events ?? []).filter((e) => e.occurred_at);
  const times = dated.map((e) => Date.parse(String(e.occurred_at)));
  const t0 = Math.min(...times), t1 = Math.max(...times);
  const x = (t: number) => (t1 > t0 ? 20 + ((t - t0) / (t1 - t0)) * (W - 40) : W / 2);
  return (
    <div class="timeline">
      <form class="toolbar" onSubmit={(e) => { e.preventDefault(); if (series.trim()) window.location.hash = href("timeline", ["series", series.trim()]); }}>
        <label>Series<input value={series} onInput={(e) => setSeries((e.target as HTMLInputElement).value)} maxLength={128} placeholder="ROB-2026-014" /></label>
        <button type="submit">Show series</button>
      </form>
      {error && <p role="alert" class="error">{error}</p>}
      {events && (
        <>
          <h1>Timeline: {title} <small class="muted">{events.length} record(s)</small></h1>
          {dated.length > 0 && (
            <svg class="axis" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Timeline from ${new Date(t0).toDateString()} to ${new Date(t1).toDateString()}`}>
              <line x1="20" x2={W - 20} y1="35" y2="35" class="axis-line" />
              {dated.map((e, i) => (
                <circle cx={x(times[i])} cy="35" r="6" class={`dot tlp-${e.tlp.toLowerCase()}`}><title>{`${e.title} ${e.occurred_at}`}</title></circle>
              ))}
              <text x="20" y="62" class="axis-text">{new Date(t0).toISOString().slice(0, 10)}</text>
              <text x={W - 20} y="62" text-anchor="end" class="axis-text">{new Date(t1).toISOString().slice(0, 10)}</text>
            </svg>
          )}
          <ol class="events" data-testid="timeline">
            {events.map((e) => (
              <li>
                <time>{e.occurred_at?.slice(0, 16).replace("T", " ") ?? "undated"}</time> <strong>{e.title}</strong> <Tlp tlp={e.tlp} />{" "}
                <Access access={e.access} />
                {e.snippet && <div><Snippet text={e.snippet} /></div>}
              </li>
            ))}
          </ol>
        </>
      )}
      {!kind && <p class="muted">Open a timeline from an entity, or name a series above.</p>}
    </div>
  );
}
