// What the SARs add up to, beside the review queue: patterns the stream raised for this agency
// (with why they fired), counts per behaviour and week against their forecast, and review
// quality per submitting agency. Every number is over SARs the reviewer sees in full.
import { useEffect, useState } from "preact/hooks";
import { type Schemas, get } from "../api/client";

export function SarPatterns() {
  const [p, setP] = useState<Schemas["Patterns"] | null>(null);
  useEffect(() => { get("/api/v1/sar/patterns", { limit: 50 }).then(setP, () => undefined); }, []);
  if (!p) return null;
  return (
    <section class="sar-patterns" aria-label="Patterns">
      <h3>Patterns <small>{p.total}</small></h3>
      {p.total === 0 ? <p>No pattern detected.</p> : (
        <ul data-testid="sar-patterns">
          {p.patterns.map((x) => (
            <li data-id={x.pattern_id}><strong>{x.kind.replace(/_/g, " ").toLowerCase()}</strong>: {x.why}
              <br /><small>{x.sar_ids.join(", ")} · {x.agencies.join(", ")}</small></li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function SarTrends() {
  const [t, setT] = useState<Schemas["Trends"] | null>(null);
  useEffect(() => { get("/api/v1/sar/trends", { weeks: 12, baseline: 8 }).then(setT, () => undefined); }, []);
  if (!t || t.series.length === 0) return null;
  const max = Math.max(1, ...t.series.flatMap((s) => s.counts));
  return (
    <section class="sar-trends" aria-label="Trends">
      <h3>SARs per week</h3>
      <table data-testid="sar-trends">
        <thead><tr><th>Behaviour</th><th>Last {t.weeks} weeks</th><th>This week</th><th>Expected (95%)</th></tr></thead>
        <tbody>{t.series.map((s) => (
          <tr class={s.above ? "above" : ""}>
            <td>{s.behavior}</td>
            <td><span class="spark" role="img" aria-label={`weekly counts ${s.counts.join(", ")}`}>{s.counts.map((n) => (
              <span style={{ height: `${Math.round((100 * n) / max)}%` }} />))}</span></td>
            <td>{s.counts[s.counts.length - 1]}</td>
            <td>{s.forecast} ({s.interval[0]}–{s.interval[1]}){s.above ? " ▲ above" : ""}</td>
          </tr>))}
        </tbody>
      </table>
    </section>
  );
}

export function SarQuality() {
  const [q, setQ] = useState<Schemas["Quality"] | null>(null);
  useEffect(() => { get("/api/v1/sar/quality", { days: 90 }).then(setQ, () => undefined); }, []);
  if (!q || q.agencies.length === 0) return null;
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${Math.round(v * 100)}%`);
  return (
    <section class="sar-quality" aria-label="Quality">
      <h3>Review quality, last {q.days} days</h3>
      <table data-testid="sar-quality">
        <thead><tr><th>Agency</th><th>Submitted</th><th>Reviewed</th><th>Accepted</th><th>Complete</th>
          <th>Median hours to review</th><th>ISE-SARs</th></tr></thead>
        <tbody>{q.agencies.map((a) => (
          <tr><td>{a.agency}</td><td>{a.submitted}</td><td>{a.reviewed}</td><td>{pct(a.acceptance_rate)}</td>
            <td>{pct(a.completeness)}</td><td>{a.median_hours_to_review ?? "–"}</td><td>{a.ise_sar}</td></tr>))}
        </tbody>
      </table>
    </section>
  );
}

export function TloNetwork() {
  const [n, setN] = useState<Schemas["TloNetwork"] | null>(null);
  useEffect(() => { get("/api/v1/tlos", { limit: 200 }).then(setN, () => undefined); }, []);
  if (!n || n.total === 0) return null;
  return (
    <section class="tlos" aria-label="TLO network">
      <h3>Terrorism liaison officers <small>{n.total}</small></h3>
      <table data-testid="tlos">
        <thead><tr><th>Name</th><th>Agency</th><th>Sector</th><th>Area</th><th>Trained until</th><th>Contact</th></tr></thead>
        <tbody>{n.tlos.map((t) => (
          <tr class={t.current ? "" : "lapsed"}><td>{t.name}</td><td>{t.agency}</td><td>{t.sector}</td><td>{t.area}</td>
            <td>{t.trained_until}{t.current ? "" : " (lapsed)"}</td><td>{t.contact}</td></tr>))}
        </tbody>
      </table>
    </section>
  );
}
