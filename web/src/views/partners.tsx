// Stakeholder engagement: the partner organisations the agency works with, and for each the
// engagement over the last 90 days — meetings, outreach, feedback, agreements in force, what they
// submitted and what they were sent.
import { useEffect, useState } from "preact/hooks";
import { Problem, get, post } from "../api/client";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = Record<string, any>;
const KINDS = ["law_enforcement", "private_sector", "community", "government", "academic"];

export function PartnersView() {
  const [partners, setPartners] = useState<Row[]>([]);
  const [open, setOpen] = useState<Row | null>(null);
  const [name, setName] = useState("");
  const [kind, setKind] = useState("private_sector");
  const [error, setError] = useState("");
  const load = () => get("/api/v1/partners").then((r: Row) => setPartners(r.partners), () => undefined);
  useEffect(() => { load(); }, []);
  const show = (id: string) => get("/api/v1/partners/{partner_id}/engagement", undefined, { partner_id: id }).then(setOpen as any);
  const add = (e: Event) => {
    e.preventDefault();
    post("/api/v1/partners", { name, kind }).then(() => { setName(""); load(); },
      (x) => setError(x instanceof Problem ? `${x.title}: ${x.detail}` : String(x)));
  };
  return (
    <div class="partners">
      <h1>Partners</h1>
      {error && <p role="alert" class="error">{error}</p>}
      <table data-testid="partners"><thead><tr><th>Partner</th><th>Kind</th><th>Sector</th><th>Agreements</th></tr></thead>
        <tbody>{partners.map((p) => (
          <tr><td><button type="button" class="link" onClick={() => show(p.id)}>{p.name}</button></td><td>{p.kind.replace("_", " ")}</td>
            <td>{p.sector}</td><td>{p.agreements.map((a: Row) => `${a.title} to ${String(a.end).slice(0, 10)}`).join("; ")}</td></tr>))}</tbody></table>
      {open && (
        <section aria-label="Engagement" data-testid="engagement">
          <h2>{open.name} <small class="muted">since {String(open.since).slice(0, 10)}</small></h2>
          <p>{Object.entries(open.engagements).map(([k, v]) => `${v} ${k}`).join(", ") || "No engagements"} ·
            submitted {open.submitted} · received {open.received}
            {open.feedback_average != null && ` · feedback ${open.feedback_average}/5`}</p>
        </section>)}
      <form onSubmit={add} aria-label="Add a partner">
        <label>Name<input required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /></label>
        <label>Kind<select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
          {KINDS.map((k) => <option value={k}>{k.replace("_", " ")}</option>)}</select></label>
        <button type="submit">Add partner</button>
      </form>
    </div>
  );
}
