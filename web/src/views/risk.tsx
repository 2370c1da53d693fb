// Threats: the people and crime series that weigh most in the reader's agency's evidence, by
// category, each score with every reason and its weight; the notices of scores that crossed the
// threshold; and a threat assessment drafted from a score in one step.
import { useEffect, useState } from "preact/hooks";
import { type Me, Problem, type Schemas, get, post } from "../api/client";
import { go } from "../lib/route";

type Row = Schemas["RiskRow"];
const CATS = ["", "terrorism", "organised_crime", "gang", "violent_crime", "cyber", "targeted_violence"];
const label = (c: string) => c.replace(/_/g, " ");

function Reasons({ r }: { r: Row }) {
  return (
    <ul class="reasons" aria-label={`Why ${r.display || r.subject}`}>
      {r.reasons.map((x) => <li>+{Number(x.weight).toFixed(1)} {label(String(x.category))}: {String(x.detail)}</li>)}
    </ul>
  );
}

export function RiskView({ me }: { me: Me }) {
  const [cat, setCat] = useState("");
  const [rows, setRows] = useState<Row[] | null>(null);
  const [notices, setNotices] = useState<Row[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState("");
  useEffect(() => { get("/api/v1/risk", { category: cat || undefined, limit: 100 }).then((r) => setRows(r.scores), () => setRows([])); }, [cat]);
  useEffect(() => { get("/api/v1/risk/notices", { limit: 20 }).then((r) => setNotices(r.scores), () => undefined); }, []);
  const assess = (subject: string) => post<{ id: string }>(`/api/v1/risk/${encodeURIComponent(subject)}/assessment`).then(
    (p) => p && go("product", [p.id]), (e) => setError(e instanceof Problem ? `${e.title}: ${e.detail}` : String(e)));
  if (!rows) return <p class="loading">Loading…</p>;
  return (
    <div class="risk">
      <h2>Threats <small>as {me.agency}'s evidence shows them</small></h2>
      {error && <p role="alert" class="error">{error}</p>}
      {notices.length > 0 && (
        <section aria-label="Notices" class="notices">
          <h3>Crossed the threshold</h3>
          <ul data-testid="risk-notices">{notices.map((n) => (
            <li>{n.display || n.subject}: {label(n.category)} {n.score.toFixed(0)} <small>{n.computed_at.slice(0, 16).replace("T", " ")}</small></li>))}</ul>
        </section>
      )}
      <label>Category<select value={cat} onChange={(e) => setCat((e.target as HTMLSelectElement).value)}>
        {CATS.map((c) => <option value={c}>{c ? label(c) : "any"}</option>)}</select></label>
      <table data-testid="risk">
        <thead><tr><th>Subject</th><th>Score</th><th>Category</th><th>Other categories</th><th></th></tr></thead>
        <tbody>{rows.map((r) => (
          <>
            <tr data-id={r.subject}>
              <td><button type="button" class="link" onClick={() => setOpen(open === r.subject ? null : r.subject)}>
                {r.display || r.subject}</button> <small>{r.subject_kind}</small></td>
              <td>{r.score.toFixed(0)}</td><td>{label(r.category)}</td>
              <td>{Object.entries(r.categories).filter(([c]) => c !== r.category).map(([c, v]) => `${label(c)} ${Number(v).toFixed(0)}`).join(", ")}</td>
              <td>{me.permissions.includes("decide") && <button type="button" onClick={() => assess(r.subject)}>Draft threat assessment</button>}</td>
            </tr>
            {open === r.subject && <tr><td colSpan={5}><Reasons r={r} /></td></tr>}
          </>))}
        </tbody>
      </table>
    </div>
  );
}
