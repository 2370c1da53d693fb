// Joint cases: the cases the reader is a member of, a new case, and one case's workspace — its
// members (the lead adds and removes them), tasks, the live message thread (each message under its
// own marking: the API sends only what the policy lets this reader see), files with their chain of
// custody, and the activity. Requests for information live beside them.
import { useEffect, useState } from "preact/hooks";
import { type Me, Problem, get, post, upload } from "../api/client";
import { go, href } from "../lib/route";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = Record<string, any>;
const say = (e: unknown) => (e instanceof Problem ? `${e.title}: ${e.detail}` : String(e));
const when = (s: string) => String(s ?? "").slice(0, 16).replace("T", " ");

export function CasesView({ me }: { me: Me }) {
  const [cases, setCases] = useState<Row[] | null>(null);
  const [title, setTitle] = useState("");
  const [ci, setCi] = useState(false);
  const [predicate, setPredicate] = useState("");
  const [error, setError] = useState("");
  useEffect(() => { get("/api/v1/cases").then((r: Row) => setCases(r.cases), () => setCases([])); }, []);
  const open = (e: Event) => {
    e.preventDefault();
    post<Row>("/api/v1/cases", { title, type: "investigation", criminal_intelligence: ci, predicate }).then(
      (c) => c && go("case", [c.id]), (x) => setError(say(x)));
  };
  if (!cases) return <p class="loading">Loading…</p>;
  return (
    <div class="cases">
      <h1>Cases <small class="muted">you are a member of</small></h1>
      <table data-testid="cases"><thead><tr><th>Case</th><th>Lead agency</th><th>Status</th><th>Members</th></tr></thead>
        <tbody>{cases.map((c) => (
          <tr><td><a href={href("case", [c.id])}>{c.title}</a></td><td>{c.lead_agency}</td><td>{c.status}</td>
            <td>{c.members.length}</td></tr>))}</tbody></table>
      {me.permissions.includes("submit") && (
        <form onSubmit={open} aria-label="Open a case">
          <h2>Open a case</h2>
          {error && <p role="alert" class="error">{error}</p>}
          <label>Title<input required maxLength={200} value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} /></label>
          <label class="inline"><input type="checkbox" checked={ci} onChange={(e) => setCi((e.target as HTMLInputElement).checked)} /> Criminal intelligence (28 CFR 23)</label>
          {ci && <label>Criminal predicate<textarea value={predicate} onInput={(e) => setPredicate((e.target as HTMLTextAreaElement).value)} /></label>}
          <button type="submit">Open</button>
        </form>
      )}
      <p><a href={href("rfis")}>Requests for information</a></p>
    </div>
  );
}

function Thread({ id }: { id: string }) {
  const [msgs, setMsgs] = useState<Row[]>([]);
  const [text, setText] = useState("");
  const [tlp, setTlp] = useState("");
  const [ci, setCi] = useState(false);
  const [error, setError] = useState("");
  useEffect(() => {
    const es = new EventSource(`/api/v1/cases/${encodeURIComponent(id)}/messages/stream`);
    es.addEventListener("message", (ev) => {
      const m = JSON.parse((ev as MessageEvent).data);
      setMsgs((l) => (l.some((x) => x.id === m.id) ? l : [...l, m]));
    });
    return () => es.close();
  }, [id]);
  const send = (e: Event) => {
    e.preventDefault();
    post(`/api/v1/cases/${id}/messages`, { text, tlp: tlp || undefined, criminal_intelligence: ci }).then(
      () => { setText(""); setError(""); }, (x) => setError(say(x)));
  };
  const last = msgs.length ? msgs[msgs.length - 1].seq : 0;
  useEffect(() => { if (last) post("/api/v1/messages/read", { thread: `case:${id}`, upto: last }).catch(() => undefined); }, [last]);
  return (
    <section aria-label="Messages" class="thread">
      <h2>Messages</h2>
      <ol data-testid="messages">{msgs.map((m) => (
        <li><span class={`tlp tlp-${String(m.tlp).toLowerCase().replace("+", "-")}`}>TLP:{m.tlp}{m.criminal_intelligence ? " // CI" : ""}</span>{" "}
          <b>{m.author}</b> <small>{m.agency} {when(m.at)}</small> {m.text}
          {m.read_by.length > 0 && <small class="muted"> · read by {m.read_by.map((r: Row) => r.subject).join(", ")}</small>}</li>))}</ol>
      <form onSubmit={send} aria-label="Post a message">
        {error && <p role="alert" class="error">{error}</p>}
        <label>Message<textarea required maxLength={8000} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} /></label>
        <label>Marking<select value={tlp} onChange={(e) => setTlp((e.target as HTMLSelectElement).value)}>
          <option value="">as the case</option><option>AMBER</option><option>AMBER+STRICT</option><option>RED</option></select></label>
        <label class="inline"><input type="checkbox" checked={ci} onChange={(e) => setCi((e.target as HTMLInputElement).checked)} /> Criminal intelligence</label>
        <button type="submit">Send</button>
      </form>
    </section>
  );
}

export function CaseView({ id, me }: { id: string; me: Me }) {
  const [c, setC] = useState<Row | null | undefined>(undefined);
  const [activity, setActivity] = useState<Row[]>([]);
  const [member, setMember] = useState("");
  const [role, setRole] = useState("investigator");
  const [task, setTask] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState("");
  const load = () => {
    get("/api/v1/cases/{case_id}", undefined, { case_id: id }).then(setC as any, () => setC(null));
    get("/api/v1/cases/{case_id}/activity", undefined, { case_id: id }).then((r: Row) => setActivity(r.items), () => undefined);
  };
  useEffect(load, [id]);
  if (c === undefined) return <p class="loading">Loading…</p>;
  if (c === null) return <p>No such case you are a member of.</p>;
  const lead = c.members.some((m: Row) => m.subject === me.subject && m.role === "lead");
  const act = (p: Promise<unknown>) => p.then(() => { setError(""); load(); }, (x) => setError(say(x)));
  const addMember = (e: Event) => { e.preventDefault(); act(post(`/api/v1/cases/${id}/members`, { subject: member, role, version: c.version })); };
  const addTask = (e: Event) => {
    e.preventDefault();
    act(post(`/api/v1/cases/${id}/tasks`, { title: task, due: new Date(Date.now() + 7 * 86400_000).toISOString() }));
  };
  const addFile = (e: Event) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) act(upload(`/api/v1/cases/${id}/files`, f, { name: f.name, reason: reason || "added to the case" }));
  };
  return (
    <div class="case">
      <h1>{c.title} <small class="muted">{c.lead_agency} · TLP:{c.tlp}{c.criminal_intelligence ? " // CRIMINAL INTELLIGENCE" : ""} · {c.status}</small></h1>
      {error && <p role="alert" class="error">{error}</p>}
      <section aria-label="Members"><h2>Members</h2>
        <ul data-testid="members">{c.members.map((m: Row) => <li>{m.subject} <small>{m.agency} · {m.role}</small></li>)}</ul>
        {lead && (
          <form onSubmit={addMember} aria-label="Add a member">
            <label>User id<input required value={member} onInput={(e) => setMember((e.target as HTMLInputElement).value)} /></label>
            <label>Role<select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
              {["investigator", "analyst", "read_only", "lead"].map((r) => <option value={r}>{r.replace("_", " ")}</option>)}</select></label>
            <button type="submit">Add member</button>
          </form>)}
      </section>
      <section aria-label="Tasks"><h2>Tasks</h2>
        <ul data-testid="tasks">{c.tasks.map((t: Row) => <li>{t.title} <small>{t.assignee || "unassigned"} · due {when(t.due)} · {t.state}</small></li>)}</ul>
        <form onSubmit={addTask} aria-label="Add a task"><label>Task<input required value={task} onInput={(e) => setTask((e.target as HTMLInputElement).value)} /></label>
          <button type="submit">Add task</button></form>
      </section>
      <Thread id={id} />
      <section aria-label="Files"><h2>Files</h2>
        <ul data-testid="files">{c.files.map((f: Row) => (
          <li><a href={`/api/v1/cases/${id}/files/${f.id}?action=downloaded&reason=${encodeURIComponent("case work")}`}>{f.name}</a>{" "}
            <small>{f.size} bytes · TLP:{f.tlp} · SHA-256 {String(f.sha256).slice(0, 12)}…</small></li>))}</ul>
        <label>Why (for the chain of custody)<input value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} /></label>
        <label>Add a file<input type="file" accept="application/pdf,image/png,image/jpeg,image/gif,text/plain,text/csv,application/json" onChange={addFile} /></label>
      </section>
      <section aria-label="Activity"><h2>Activity</h2>
        <ol data-testid="activity">{activity.map((i) => <li><small>{when(i.at)}</small> {i.kind} — {i.text} <small class="muted">{i.actor}</small></li>)}</ol>
      </section>
    </div>
  );
}

export function RfisView({ me }: { me: Me }) {
  const [rfis, setRfis] = useState<Row[] | null>(null);
  const [q, setQ] = useState("");
  const [to, setTo] = useState("");
  const [answer, setAnswer] = useState<Record<string, string>>({});
  const [error, setError] = useState("");
  const load = () => get("/api/v1/rfis", { status: ["OPEN", "ANSWERED"] } as any).then((r: Row) => setRfis(r.rfis), () => setRfis([]));
  useEffect(() => { load(); }, []);
  const act = (p: Promise<unknown>) => p.then(() => { setError(""); load(); }, (x) => setError(say(x)));
  const ask = (e: Event) => {
    e.preventDefault();
    act(post("/api/v1/rfis", { question: q, addressees: to.split(/[ ,]+/).filter(Boolean),
      due: new Date(Date.now() + 3 * 86400_000).toISOString() }));
  };
  if (!rfis) return <p class="loading">Loading…</p>;
  const now = new Date().toISOString();
  return (
    <div class="rfis">
      <h1>Requests for information</h1>
      {error && <p role="alert" class="error">{error}</p>}
      <table data-testid="rfis"><thead><tr><th>Question</th><th>From</th><th>To</th><th>Due</th><th>Status</th><th></th></tr></thead>
        <tbody>{rfis.map((r) => (
          <tr class={r.status === "OPEN" && r.due < now ? "overdue" : ""}>
            <td>{r.question}{r.answer && <p><b>Answer:</b> {r.answer}</p>}</td><td>{r.requester_agency}</td><td>{r.addressees.join(", ")}</td>
            <td>{when(r.due)}{r.status === "OPEN" && r.due < now ? " (overdue)" : ""}</td><td>{r.status}</td>
            <td>{r.addressees.includes(me.agency) && r.status === "OPEN" && (
              <form onSubmit={(e) => { e.preventDefault(); act(post(`/api/v1/rfis/${r.id}/answer`, { answer: answer[r.id] ?? "", version: r.version })); }}>
                <label>Answer<input required value={answer[r.id] ?? ""} onInput={(e) => setAnswer({ ...answer, [r.id]: (e.target as HTMLInputElement).value })} /></label>
                <button type="submit">Answer</button></form>)}
              {r.requester_agency === me.agency && r.status !== "CLOSED" && (
                <button type="button" onClick={() => act(post(`/api/v1/rfis/${r.id}/close`, { version: r.version }))}>Close</button>)}</td>
          </tr>))}</tbody></table>
      {me.permissions.includes("submit") && (
        <form onSubmit={ask} aria-label="Ask a question">
          <h2>Ask</h2>
          <label>Question<textarea required value={q} onInput={(e) => setQ((e.target as HTMLTextAreaElement).value)} /></label>
          <label>To (agency ORIs)<input required value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} /></label>
          <button type="submit">Send</button>
        </form>)}
    </div>
  );
}
