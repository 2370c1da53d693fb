// The shift and its handoff: open a shift, keep its log, generate the briefing at the end (what is
// open, each item linked), add the outgoing officer's notes and hand it to the incoming watch
// officer, who acknowledges it.
import { useEffect, useState } from "preact/hooks";
import { type Me, Problem, get, post } from "../api/client";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = Record<string, any>;

export function HandoffView({ me }: { me: Me }) {
  const [shifts, setShifts] = useState<Row[]>([]);
  const [log, setLog] = useState("");
  const [notes, setNotes] = useState("");
  const [incoming, setIncoming] = useState("");
  const [error, setError] = useState("");
  const load = () => get("/api/v1/shifts").then((r: Row) => setShifts(r.shifts), () => undefined);
  useEffect(() => { load(); }, []);
  const act = (p: Promise<unknown>) => p.then(() => { setError(""); load(); },
    (x) => setError(x instanceof Problem ? `${x.title}: ${x.detail}` : String(x)));
  const mine = shifts.find((s) => s.watch_officer === me.subject && s.state !== "ACKNOWLEDGED");
  const toMe = shifts.find((s) => s.incoming === me.subject && s.state === "HANDED_OVER");
  const start = () => act(post("/api/v1/shifts", { start: new Date().toISOString(), end: new Date(Date.now() + 12 * 3600_000).toISOString() }));
  return (
    <div class="handoff">
      <h1>Shift handoff</h1>
      {error && <p role="alert" class="error">{error}</p>}
      {toMe && <Briefing s={toMe} />}
      {toMe && <button type="button" onClick={() => act(post(`/api/v1/shifts/${toMe.id}/acknowledge`, { version: toMe.version }))}>Acknowledge the briefing</button>}
      {!mine && <button type="button" onClick={start}>Start my shift</button>}
      {mine && (
        <section aria-label="My shift">
          <h2>My shift <small class="muted">{mine.state.replace("_", " ").toLowerCase()}</small></h2>
          <form onSubmit={(e) => { e.preventDefault(); act(post(`/api/v1/shifts/${mine.id}/log`, { kind: "event", text: log }).then(() => setLog(""))); }}>
            <label>Log an event<input required value={log} onInput={(e) => setLog((e.target as HTMLInputElement).value)} /></label>
            <button type="submit">Log</button></form>
          <button type="button" onClick={() => act(post(`/api/v1/shifts/${mine.id}/briefing`, { version: mine.version }))}>Generate the briefing</button>
          {mine.briefing && <Briefing s={mine} />}
          {mine.briefing && (
            <form onSubmit={(e) => { e.preventDefault(); act(post(`/api/v1/shifts/${mine.id}/handover`, { notes, incoming, version: mine.version })); }}>
              <label>Notes for the incoming officer<textarea value={notes} onInput={(e) => setNotes((e.target as HTMLTextAreaElement).value)} /></label>
              <label>Incoming watch officer (user id)<input required value={incoming} onInput={(e) => setIncoming((e.target as HTMLInputElement).value)} /></label>
              <button type="submit">Hand over</button></form>)}
        </section>)}
    </div>
  );
}

function Briefing({ s }: { s: Row }) {
  const b = s.briefing;
  return (
    <section aria-label="Briefing" data-testid="briefing">
      <h3>Briefing <small class="muted">{String(b.generated_at).slice(0, 16).replace("T", " ")} by {s.watch_officer}</small></h3>
      <p>{Object.entries(b.alerts_by_level ?? {}).map(([k, v]) => `${v} ${k}`).join(", ") || "No alerts"} · {b.overdue_rfis} overdue RFIs</p>
      {s.notes && <blockquote>{s.notes}</blockquote>}
      <ul>{b.items.map((i: Row) => <li><b>{i.kind}</b> <a href={i.link}>{i.text}</a>{i.overdue ? " (overdue)" : ""}</li>)}</ul>
    </section>
  );
}
