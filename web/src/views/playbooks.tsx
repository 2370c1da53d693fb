// CACAO playbooks: the library (import a partner's playbook, see what its validation says), the
// manual steps waiting for you or your role, a playbook's workflow drawn as a graph with its
// triggers and a Run button, and each execution's trace: every step, its inputs and outputs,
// timing, attempts and the OpenC2 responses.
import cytoscape from "cytoscape";
import { useEffect, useRef, useState } from "preact/hooks";
import { type Me, Problem, get, post, upload, url } from "../api/client";
import { href } from "../lib/route";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = Record<string, any>;
const fail = (x: unknown) => (x instanceof Problem ? `${x.title}: ${x.detail}` : String(x));
const when = (s?: string | null) => (s ? String(s).slice(0, 19).replace("T", " ") : "");

export function PlaybooksView({ me }: { me: Me }) {
  const [books, setBooks] = useState<Row[]>([]);
  const [runs, setRuns] = useState<Row[]>([]);
  const [error, setError] = useState("");
  const [note, setNote] = useState("");
  const load = () => {
    get("/api/v1/playbooks").then((r: Row) => setBooks(r.playbooks), (x) => setError(fail(x)));
    get("/api/v1/executions", { limit: 20 }).then((r: Row) => setRuns(r.executions), () => undefined);
  };
  useEffect(load, []);
  const importFile = (file: File) =>
    upload<Row>("/api/v1/playbooks", file, {}).then(
      (r) => { setError(""); setNote(`${r.new ? "Imported" : "Already held"}: ${r.name} (${r.modified})`); load(); },
      (x) => { setNote(""); setError(fail(x)); });
  const respond = me.permissions.includes("respond");
  return (
    <div class="playbooks">
      <h1>Playbooks</h1>
      {error && <p role="alert" class="error" data-testid="import-error">{error}</p>}
      {note && <p role="status">{note}</p>}
      <Tasks me={me} />
      {respond && (
        <label>Import a CACAO playbook (JSON, or a STIX course-of-action)
          <input type="file" accept="application/json,.json" data-testid="import"
            onChange={(e) => { const f = (e.target as HTMLInputElement).files?.[0]; if (f) importFile(f); }} /></label>)}
      <table data-testid="playbooks"><caption>Library</caption>
        <thead><tr><th>Playbook</th><th>TLP</th><th>Version</th><th>Held for</th><th>Triggers</th></tr></thead>
        <tbody>{books.map((b) => (
          <tr><td><a href={href("playbook", [b.id])}>{b.name}</a></td><td><span class={`tlp tlp-${b.tlp.toLowerCase()}`}>TLP:{b.tlp}</span></td>
            <td>{when(b.modified)}</td><td>{b.agency}</td><td>{b.triggers.map((t: Row) => t.kind).join(", ") || "by hand"}</td></tr>))}</tbody></table>
      <Runs runs={runs} />
    </div>
  );
}

function Runs({ runs }: { runs: Row[] }) {
  return (
    <table data-testid="executions"><caption>Executions</caption>
      <thead><tr><th>Started</th><th>Playbook</th><th>State</th><th>Started by</th><th>Trigger</th></tr></thead>
      <tbody>{runs.map((e) => (
        <tr><td><a href={href("execution", [e.id])}>{when(e.started_at)}</a></td><td>{e.name}</td>
          <td class={`state-${e.state}`}>{e.state}</td><td>{e.started_by}</td><td>{e.trigger?.kind ?? "by hand"}</td></tr>))}</tbody></table>
  );
}

function Tasks({ me }: { me: Me }) {
  const [tasks, setTasks] = useState<Row[]>([]);
  const [error, setError] = useState("");
  const load = () => get("/api/v1/playbook-tasks", { state: "open" }).then((r: Row) => setTasks(r.tasks.filter((t: Row) => t.mine)), () => undefined);
  useEffect(() => { load(); const t = setInterval(load, 2000); return () => clearInterval(t); }, [me.subject]);
  if (!tasks.length) return null;
  return (
    <section aria-label="Steps waiting for you" data-testid="tasks">
      <h2>Steps waiting for you</h2>
      {error && <p role="alert" class="error">{error}</p>}
      {tasks.map((t) => <Task t={t} done={() => { setError(""); load(); }} failed={(x) => setError(fail(x))} />)}
    </section>
  );
}

function Task({ t, done, failed }: { t: Row; done: () => void; failed: (x: unknown) => void }) {
  const [values, setValues] = useState<Record<string, string>>(
    Object.fromEntries(Object.entries(t.fields as Record<string, string>).map(([k, kind]) => [k, kind === "bool" ? "false" : ""])));
  const submit = (e: Event) => {
    e.preventDefault();
    post(`/api/v1/playbook-tasks/${t.id}/answer`, { values }).then(done, failed);
  };
  return (
    <form class="task" onSubmit={submit} data-testid={`task-${t.id}`}>
      <p><b>{t.playbook_name}</b> · {t.step_name} {t.due && <small class="muted">due {when(t.due)}</small>}</p>
      <p>{t.instructions}</p>
      {Object.entries(t.fields as Record<string, string>).map(([name, kind]) => kind === "bool"
        ? <label><input type="checkbox" checked={values[name] === "true"}
            onChange={(e) => setValues({ ...values, [name]: String((e.target as HTMLInputElement).checked) })} /> {name.replace(/__/g, "")}</label>
        : <label>{name.replace(/__/g, "")} ({kind})<input required value={values[name]}
            onInput={(e) => setValues({ ...values, [name]: (e.target as HTMLInputElement).value })} /></label>)}
      <button type="submit">Answer</button>
    </form>
  );
}

const EDGES = ["on_completion", "on_success", "on_failure", "on_true", "on_false"];

export function PlaybookView({ id, me }: { id: string; me: Me }) {
  const [pb, setPb] = useState<Row | null>(null);
  const [inputs, setInputs] = useState<Record<string, string>>({});
  const [error, setError] = useState("");
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => { get("/api/v1/playbooks/{pb_id}", {}, { pb_id: id }).then((r) => setPb(r as Row), (x) => setError(fail(x))); }, [id]);
  useEffect(() => {
    if (!pb || !box.current) return;
    const nodes = pb.steps.map((s: Row) => ({ data: { id: s.id, label: `${s.name || s.type}\n(${s.type})` } }));
    const edges = pb.steps.flatMap((s: Row) => [
      ...EDGES.filter((k) => s[k]).map((k) => ({ data: { id: `${s.id}-${k}`, source: s.id, target: s[k], label: k.replace("on_", "") } })),
      ...(s.next_steps ?? []).map((t: string, i: number) => ({ data: { id: `${s.id}-n${i}`, source: s.id, target: t, label: "branch" } })),
      ...Object.entries(s.cases ?? {}).map(([k, t]) => ({ data: { id: `${s.id}-c${k}`, source: s.id, target: t as string, label: k } }))]);
    const c = cytoscape({ container: box.current, elements: [...nodes, ...edges], layout: { name: "breadthfirst", directed: true, roots: [pb.start] },
      style: [{ selector: "node", style: { label: "data(label)", "text-wrap": "wrap", "font-size": 10, "background-color": "#2b6cb0", color: "#e2e8f0", "text-valign": "bottom", "text-margin-y": 4 } },
        { selector: "edge", style: { label: "data(label)", "font-size": 9, color: "#cbd5e0", "line-color": "#718096", "target-arrow-color": "#718096", "curve-style": "bezier", "target-arrow-shape": "triangle", "text-background-color": "#171923", "text-background-opacity": 1 } }] });
    return () => c.destroy();
  }, [pb]);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!pb) return <p class="loading">Loading…</p>;
  const external = Object.entries(pb.variables as Record<string, Row>).filter(([, v]) => v.external);
  const run = (e: Event) => {
    e.preventDefault();
    post<Row>(`/api/v1/playbooks/${id}/executions`, { variables: inputs }).then((ex) => { if (ex) location.hash = href("execution", [ex.id]); }, (x) => setError(fail(x)));
  };
  return (
    <div class="playbook">
      <h1>{pb.name} <span class={`tlp tlp-${pb.tlp.toLowerCase()}`}>TLP:{pb.tlp}</span></h1>
      <p>{pb.description}</p>
      <p class="muted">Version {when(pb.modified)} · held for {pb.agency} · imported by {pb.imported_by} ·{" "}
        <a href={url(`/api/v1/playbooks/${id}/export`)}>CACAO JSON</a> · <a href={url(`/api/v1/playbooks/${id}/export`, { stix: true })}>STIX</a></p>
      <div ref={box} class="workflow" role="img" aria-label={`The workflow: ${pb.steps.length} steps`} style="height: 360px" />
      {me.permissions.includes("respond") && (
        <form onSubmit={run} aria-label="Run">
          {external.map(([name, v]) => <label>{name.replace(/__/g, "")} ({v.type})<input value={inputs[name] ?? v.value ?? ""}
            onInput={(e) => setInputs({ ...inputs, [name]: (e.target as HTMLInputElement).value })} /></label>)}
          <button type="submit">Run</button></form>)}
      <p>Triggers: {pb.triggers.map((t: Row) => `${t.kind}${t.alert_type ? ` ${t.alert_type}` : ""}${t.every_s ? ` every ${t.every_s}s` : ""}`).join("; ") || "none (run by hand)"}</p>
      <Runs runs={pb.executions} />
    </div>
  );
}

export function ExecutionView({ id }: { id: string }) {
  const [ex, setEx] = useState<Row | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let live = true;
    const load = () => get("/api/v1/executions/{ex_id}", undefined, { ex_id: id }).then((r: Row) => {
      if (!live) return;
      setEx(r);
      if (r.state === "running" || r.state === "waiting") setTimeout(load, 1000);
    }, (x) => setError(fail(x)));
    load();
    return () => { live = false; };
  }, [id]);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!ex) return <p class="loading">Loading…</p>;
  return (
    <div class="execution">
      <h1>{ex.name} <small class={`state-${ex.state}`}>{ex.state}</small></h1>
      <p class="muted">Started {when(ex.started_at)} by {ex.started_by}{ex.trigger ? ` (trigger: ${ex.trigger.kind})` : ""}
        {ex.ended_at ? ` · ended ${when(ex.ended_at)}` : ""}</p>
      {ex.error && <p class="error">{ex.error}</p>}
      <table data-testid="trace"><caption>Trace</caption>
        <thead><tr><th>Step</th><th>Type</th><th>Status</th><th>Attempt</th><th>Started</th><th>ms</th><th>Inputs</th><th>Outputs</th><th>Detail</th><th>Error</th></tr></thead>
        <tbody>{ex.steps.map((s: Row) => (
          <tr><td>{s.name || s.step}</td><td>{s.type}</td><td class={`state-${s.status}`}>{s.status}</td><td>{s.attempt}</td>
            <td>{when(s.started_at)}</td><td>{s.ms ?? ""}</td><td><code>{JSON.stringify(s.inputs ?? {})}</code></td>
            <td><code>{JSON.stringify(s.outputs ?? {})}</code></td><td><Detail d={s.detail ?? {}} /></td><td>{s.error ?? ""}</td></tr>))}</tbody></table>
    </div>
  );
}

function Detail({ d }: { d: Row }) {
  const oc2 = d.openc2;
  return (
    <span>
      {d.answered_by && <span>answered by <b>{d.answered_by}</b> </span>}
      {oc2 && <span>OpenC2 {oc2.command.action} → <b>{oc2.response.status}</b> {oc2.response.status_text} ({Math.round(oc2.response.elapsed_ms)} ms) </span>}
      {d.status !== undefined && !oc2 && <span>HTTP {d.status} </span>}
      {d.iterations !== undefined && <span>{d.iterations} iterations</span>}
    </span>
  );
}
