// The SAR review queue: SARs the reviewer sees in full, highest triage score first, each with the
// reasons for its score and its SLA; a SAR opened shows its narrative, its submitter and every
// step so far, and the step it waits for: initial review (accept for vetting, return with
// questions, close) or analyst vetting (ISE-SAR, local SAR, close), or a change of priority.
import { useEffect, useState } from "preact/hooks";
import { type Me, Problem, type Schemas, get, post } from "../api/client";
import { SarPatterns, SarQuality, SarTrends, TloNetwork } from "./sar-insights";

type Sar = Schemas["SarSummary"];
type Detail = Schemas["SarDetail"];
const CHECKLIST = ["who", "what", "where", "when", "why_suspicious", "contact"];

function Reasons({ s }: { s: Sar }) {
  return (
    <ul class="reasons" aria-label="Why this score">
      {s.reasons.map((r) => <li>{r.points >= 0 ? "+" : ""}{r.points} {r.detail}</li>)}
    </ul>
  );
}

function Step({ d, onDone }: { d: Detail; onDone: (d: Detail) => void }) {
  const vet = d.state === "ACCEPTED";
  const [f, set] = useState<Record<string, string>>({ outcome: vet ? "LOCAL" : "ACCEPT" });
  const [ratings, setRatings] = useState<Record<string, number>>({});
  const [basis, setBasis] = useState(false);
  const [error, setError] = useState("");
  const on = (k: string) => (e: Event) => set({ ...f, [k]: (e.target as HTMLInputElement).value });
  const send = (e: Event) => {
    e.preventDefault();
    setError("");
    const common = { outcome: f.outcome, reason: f.reason ?? "", feedback: f.feedback ?? "", ratings };
    const body = vet ? { ...common, facts: f.facts ?? "", release_tlp: f.release ?? "TLP:GREEN" }
      : { ...common, basis_confirmed: basis, questions: (f.questions ?? "").split("\n").filter((q) => q.trim()) };
    post<Detail>(`/api/v1/sars/${encodeURIComponent(d.id)}/${vet ? "vetting" : "review"}`, body).then(
      (x) => x && onDone(x), (e) => setError(e instanceof Problem ? `${e.title}: ${e.detail}` : String(e)));
  };
  const outcomes = vet ? [["ISE_SAR", "ISE-SAR (share)"], ["LOCAL", "Keep as local SAR"], ["CLOSE", "Close"]]
    : [["ACCEPT", "Accept for vetting"], ["RETURN", "Return to submitter"], ["CLOSE", "Close"]];
  return (
    <form class="sar-step" onSubmit={send} aria-label={vet ? "Vetting" : "Initial review"}>
      <h4>{vet ? "Analyst vetting: a potential terrorism nexus?" : "Initial review"}</h4>
      {error && <p role="alert" class="error">{error}</p>}
      <fieldset>{outcomes.map(([v, label]) => (
        <label class="inline"><input type="radio" name="outcome" value={v} checked={f.outcome === v}
          onChange={on("outcome")} />{label}</label>))}</fieldset>
      {!vet && f.outcome === "ACCEPT" && <label class="inline"><input type="checkbox" checked={basis}
        onChange={() => setBasis(!basis)} data-testid="basis" />Behaviour in the standard; not based solely on race,
        ethnicity, national origin, religion or protected activity</label>}
      {!vet && f.outcome === "RETURN" && <label>Questions (one per line)<textarea onInput={on("questions")} /></label>}
      {vet && <label>Facts gathered<textarea onInput={on("facts")} maxLength={8000} /></label>}
      <fieldset class="checklist"><legend>Completeness (0 missing, 1 partial, 2 complete)</legend>
        {CHECKLIST.map((k) => <label class="inline">{k.replace("_", " ")}<select value={String(ratings[k] ?? "")}
          onChange={(e) => setRatings({ ...ratings, [k]: Number((e.target as HTMLSelectElement).value) })}>
          <option value="">–</option><option>0</option><option>1</option><option>2</option></select></label>)}
      </fieldset>
      <label>Reason (kept in the audit trail)<input required minLength={3} onInput={on("reason")} /></label>
      <label>Feedback to the submitter<input onInput={on("feedback")} maxLength={2000} /></label>
      <button type="submit" class="primary">Record decision</button>
    </form>
  );
}

function Open({ id, onChange }: { id: string; onChange: () => void }) {
  const [d, setD] = useState<Detail | null>(null);
  const [error, setError] = useState("");
  useEffect(() => { get("/api/v1/sars/{sar}", undefined, { sar: id }).then(setD, (e) => setError(String(e))); }, [id]);
  if (!d) return <p class="loading">{error || "Loading…"}</p>;
  return (
    <article class="sar" data-testid="sar-detail" data-state={d.state}>
      <h3>{d.sar_id} · {d.behavior} · {d.state} {d.public_tip && <span class="tag">public tip</span>}</h3>
      {d.protected_activity && <p class="warn">The submitter says the activity may be constitutionally protected.</p>}
      <p class="narrative">{d.narrative}</p>
      <dl>
        <dt>When</dt><dd>{d.occurred_at}</dd><dt>Where</dt><dd>{d.place}</dd>
        <dt>Submitted by</dt><dd>{d.submitted_by} ({d.agency}) {Object.values(d.contact).join(" · ")}</dd>
      </dl>
      <Reasons s={d} />
      <ol class="steps">{d.steps.map((s) => <li>{s.step}: {s.outcome} by {s.actor} ({s.agency}) — {s.reason}</li>)}</ol>
      {d.shared_as && <p class="ok">Shared as {d.shared_as}</p>}
      {(d.state === "SUBMITTED" || d.state === "ACCEPTED") && <Step key={`${d.id}:${d.version}`} d={d} onDone={(x) => { setD(x); onChange(); }} />}
    </article>
  );
}

export function SarsView({ me }: { me: Me }) {
  const [queue, setQueue] = useState<Schemas["SarQueue"] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState("");
  const load = () => get("/api/v1/sars", { limit: 200 }).then(setQueue, (e) => setError(String(e)));
  useEffect(() => { load(); }, [me.subject]);
  if (!queue) return <p class="loading">{error || "Loading…"}</p>;
  return (
    <div class="sars">
      <h2>SAR review <small>{queue.total} waiting</small></h2>
      {queue.sars.length === 0 && <p data-testid="no-sars">Nothing waiting for review.</p>}
      <table class="queue" data-testid="sar-queue">
        <thead><tr><th>Score</th><th>Priority</th><th>SAR</th><th>Behaviour</th><th>State</th><th>Due</th></tr></thead>
        <tbody>{queue.sars.map((s) => (
          <tr data-id={s.id} class={s.breached ? "breached" : ""} onClick={() => setOpen(s.id)}>
            <td>{s.score}</td><td>{s.priority}</td>
            <td><button type="button" class="link" onClick={() => setOpen(s.id)}>{s.sar_id}</button>
              {s.public_tip && <span class="tag">tip</span>}</td>
            <td>{s.behavior}</td><td>{s.state}</td><td>{s.due_at?.slice(0, 16).replace("T", " ")}</td>
          </tr>))}
        </tbody>
      </table>
      {open && <Open id={open} onChange={load} />}
      <div class="insights"><SarPatterns /><SarTrends /><SarQuality /><TloNetwork /></div>
    </div>
  );
}
