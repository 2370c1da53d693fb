// Collection: the fusion centre's priority intelligence requirements and standing information
// needs, how much reporting answered each in the last 30 days (gaps first), the reports that did,
// a form for a new requirement, and taskings to partner agencies and TLOs; and, for those tasked,
// their taskings with a form to answer. Counts are over what the reader sees in full.
import { useEffect, useState } from "preact/hooks";
import { type Me, Problem, type Schemas, get, post } from "../api/client";

type Row = Schemas["GapRow"];
const err = (e: unknown) => (e instanceof Problem ? `${e.title}: ${e.detail}` : String(e));

function NewRequirement({ onDone }: { onDone: () => void }) {
  const [f, set] = useState<Record<string, string>>({ code: "PIR-", kind: "PIR" });
  const [error, setError] = useState("");
  const on = (k: string) => (e: Event) => set({ ...f, [k]: (e.target as HTMLInputElement).value });
  const list = (k: string) => (f[k] ?? "").split(/[,\n]/).map((x) => x.trim()).filter(Boolean);
  const send = (e: Event) => {
    e.preventDefault();
    setError("");
    post("/api/v1/requirements", {
      code: f.code, kind: f.kind, title: f.title, questions: list("questions"), behaviors: list("behaviors"),
      keywords: list("keywords"), techniques: list("techniques"),
    }).then(() => { set({ code: "PIR-", kind: "PIR" }); onDone(); }, (x) => setError(err(x)));
  };
  return (
    <form class="new-requirement" onSubmit={send} aria-label="New requirement">
      <h3>New requirement</h3>
      {error && <p role="alert" class="error">{error}</p>}
      <label>Code<input value={f.code} onInput={on("code")} required /></label>
      <label>Kind<select value={f.kind} onChange={on("kind")}><option>PIR</option><option>SIN</option></select></label>
      <label>Title<input value={f.title ?? ""} onInput={on("title")} required minLength={3} /></label>
      <label>Questions (one per line)<textarea value={f.questions ?? ""} onInput={on("questions")} required /></label>
      <label>ISE-SAR behaviours (codes, comma-separated)<input value={f.behaviors ?? ""} onInput={on("behaviors")} /></label>
      <label>Keywords<input value={f.keywords ?? ""} onInput={on("keywords")} /></label>
      <label>ATT&CK techniques<input value={f.techniques ?? ""} onInput={on("techniques")} /></label>
      <button type="submit" class="primary">Add</button>
    </form>
  );
}

function Task({ r }: { r: Row }) {
  const [f, set] = useState<Record<string, string>>({});
  const [msg, setMsg] = useState("");
  const on = (k: string) => (e: Event) => set({ ...f, [k]: (e.target as HTMLInputElement).value });
  const send = (e: Event) => {
    e.preventDefault();
    post(`/api/v1/requirements/${encodeURIComponent(r.id)}/taskings`, {
      question: f.question, to_agency: f.agency, to_subject: f.subject ?? "",
      due: new Date(f.due || Date.now() + 7 * 864e5).toISOString(),
    }).then(() => setMsg("Tasked."), (x) => setMsg(err(x)));
  };
  return (
    <form class="task" onSubmit={send} aria-label={`Task for ${r.code}`}>
      <input placeholder="Question" aria-label="Question" onInput={on("question")} required minLength={3} />
      <input placeholder="Agency ORI" aria-label="Agency" onInput={on("agency")} required />
      <input placeholder="TLO (optional)" aria-label="TLO" onInput={on("subject")} />
      <input type="date" aria-label="Due" onInput={on("due")} />
      <button type="submit">Task</button> {msg && <span role="status">{msg}</span>}
    </form>
  );
}

export function RequirementsView({ me }: { me: Me }) {
  const [gaps, setGaps] = useState<Schemas["Gaps"] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [reports, setReports] = useState<Schemas["Reporting"] | null>(null);
  const load = () => get("/api/v1/requirements/gaps", { days: 30 }).then(setGaps, () => undefined);
  useEffect(() => { load(); }, [me.subject]);
  useEffect(() => {
    if (open) get("/api/v1/requirements/{rid}/reporting", { limit: 50 }, { rid: open }).then(setReports, () => undefined);
  }, [open]);
  if (!gaps) return <p class="loading">Loading…</p>;
  return (
    <div class="requirements">
      <h2>Requirements <small>{gaps.gaps} with no reporting in 30 days</small></h2>
      <table data-testid="gaps">
        <thead><tr><th>Code</th><th>Title</th><th>Answered</th><th>Latest</th><th>Open taskings</th></tr></thead>
        <tbody>{gaps.requirements.map((r) => (
          <tr class={r.gap ? "gap" : ""} data-id={r.id}>
            <td><button type="button" class="link" onClick={() => setOpen(r.id)}>{r.code}</button></td>
            <td>{r.title}</td><td>{r.answered}{r.gap ? " (gap)" : ""}</td><td>{r.last_reported?.slice(0, 10) ?? "–"}</td>
            <td>{r.taskings_open}</td>
          </tr>))}
        </tbody>
      </table>
      {open && reports && (
        <section aria-label="Reporting">
          <h3>Reporting for {gaps.requirements.find((r) => r.id === open)?.code}</h3>
          <ul data-testid="reporting">{reports.reports.map((x) => (
            <li>{x.report_type} {x.report_id.slice(0, 8)} · {x.occurred_at.slice(0, 10)} · {x.matched.join(", ")}</li>))}
          </ul>
          <Task r={gaps.requirements.find((r) => r.id === open) as Row} />
        </section>
      )}
      <NewRequirement onDone={load} />
    </div>
  );
}

export function TaskingsView() {
  const [mine, setMine] = useState<Schemas["TaskingList"] | null>(null);
  const [answer, setAnswer] = useState<Record<string, string>>({});
  const load = () => get("/api/v1/taskings/mine").then(setMine, () => undefined);
  useEffect(() => { load(); }, []);
  if (!mine) return <p class="loading">Loading…</p>;
  return (
    <div class="taskings">
      <h2>Taskings <small>{mine.total}</small></h2>
      {mine.total === 0 && <p>No taskings.</p>}
      <ul data-testid="taskings">{mine.taskings.map((t) => (
        <li data-id={t.id}>
          <strong>{String(t.requirement.code)}</strong> {String(t.requirement.title)}: {t.question}
          <small> (due {t.due.slice(0, 10)}, from {t.from_agency})</small>
          {t.status === "ANSWERED" ? <p class="ok">Answered: {t.answer}</p> : (
            <form onSubmit={(e) => { e.preventDefault(); post(`/api/v1/taskings/${encodeURIComponent(t.id)}/answer`,
              { answer: answer[t.id] ?? "" }).then(load); }} aria-label="Answer">
              <input aria-label="Answer" minLength={3} required value={answer[t.id] ?? ""}
                onInput={(e) => setAnswer({ ...answer, [t.id]: (e.target as HTMLInputElement).value })} />
              <button type="submit">Answer</button>
            </form>
          )}
        </li>))}
      </ul>
    </div>
  );
}
