// Deconfliction: register a planned operation (a point or an address Argus holds, a radius and a
// time window, the subjects and vehicles by their entity ids) and see at once whom it conflicts
// with; the agency's operations; and the notices addressed to the agency (a watch centre's: every
// conflict). A notice names the other side's agency and contact, never its case.
import { useEffect, useState } from "preact/hooks";
import { type Me, Problem, get, post } from "../api/client";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = Record<string, any>;
const KINDS = ["raid", "search_warrant", "buy_bust", "surveillance", "undercover_meeting", "arrest"];
const when = (s: string) => String(s ?? "").slice(0, 16).replace("T", " ");
const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

export function OperationsView({ me }: { me: Me }) {
  const [ops, setOps] = useState<Row[]>([]);
  const [notices, setNotices] = useState<Row[]>([]);
  const [f, setF] = useState<Row>({ kind: "search_warrant", title: "", contact_name: me.name ?? "", contact_phone: "",
    start: local(new Date(Date.now() + 3600_000)), end: local(new Date(Date.now() + 4 * 3600_000)), lat: "", lon: "",
    address: "", radius_m: "200", subjects: "", vehicles: "" });
  const [told, setTold] = useState<Row[] | null>(null);
  const [error, setError] = useState("");
  const load = () => {
    get("/api/v1/operations").then((r: Row) => setOps(r.operations), () => undefined);
    get("/api/v1/operations/notices").then((r: Row) => setNotices(r.notices), () => undefined);
  };
  useEffect(load, []);
  const set = (k: string) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const ids = (s: string) => s.split(/[ ,]+/).filter(Boolean);
  const register = (e: Event) => {
    e.preventDefault();
    const point = f.lat !== "" && f.lon !== "" ? { lat: Number(f.lat), lon: Number(f.lon) } : {};
    post<Row>("/api/v1/operations", { kind: f.kind, title: f.title, contact_name: f.contact_name, contact_phone: f.contact_phone,
      start: new Date(f.start).toISOString(), end: new Date(f.end).toISOString(), address: f.address, radius_m: Number(f.radius_m),
      subjects: ids(f.subjects), vehicles: ids(f.vehicles), ...point }).then(
      (r) => { setTold(r?.notices ?? []); setError(""); load(); },
      (x) => setError(x instanceof Problem ? `${x.title}: ${x.detail}` : String(x)));
  };
  return (
    <div class="operations">
      <h1>Deconfliction</h1>
      {notices.length > 0 && (
        <section aria-label="Conflicts" class="notices"><h2>Conflicts</h2>
          <ul data-testid="notices">{notices.map((n) => (
            <li class="level-high"><b>{n.kind.replace("_", " ")}</b> {n.text} <small>{when(n.found_at)}</small>
              <ul>{n.parties.map((p: Row) => <li>{p.agency}: {p.contact_name} {p.contact_phone}</li>)}</ul></li>))}</ul>
        </section>)}
      {me.permissions.includes("submit") && (
        <form onSubmit={register} aria-label="Register an operation">
          <h2>Register an operation</h2>
          {error && <p role="alert" class="error">{error}</p>}
          {told && <p role="status" data-testid="told">{told.length ? `${told.length} conflict(s): the other side's contact is listed above` : "No conflicts found."}</p>}
          <label>Kind<select value={f.kind} onChange={set("kind")}>{KINDS.map((k) => <option value={k}>{k.replace(/_/g, " ")}</option>)}</select></label>
          <label>Title<input required maxLength={200} value={f.title} onInput={set("title")} /></label>
          <label>Contact<input required value={f.contact_name} onInput={set("contact_name")} /></label>
          <label>Contact phone<input required value={f.contact_phone} onInput={set("contact_phone")} /></label>
          <label>Start<input type="datetime-local" required value={f.start} onInput={set("start")} /></label>
          <label>End<input type="datetime-local" required value={f.end} onInput={set("end")} /></label>
          <label>Latitude<input inputMode="decimal" value={f.lat} onInput={set("lat")} /></label>
          <label>Longitude<input inputMode="decimal" value={f.lon} onInput={set("lon")} /></label>
          <label>or an address<input value={f.address} onInput={set("address")} /></label>
          <label>Radius (m)<input inputMode="numeric" value={f.radius_m} onInput={set("radius_m")} /></label>
          <label>Subjects (entity ids)<input value={f.subjects} onInput={set("subjects")} /></label>
          <label>Vehicles (entity ids)<input value={f.vehicles} onInput={set("vehicles")} /></label>
          <button type="submit">Register and check</button>
        </form>)}
      <h2>{me.agency}'s operations</h2>
      <table data-testid="operations"><thead><tr><th>Operation</th><th>Kind</th><th>When</th><th>State</th></tr></thead>
        <tbody>{ops.map((o) => <tr><td>{o.title}</td><td>{o.kind.replace(/_/g, " ")}</td><td>{when(o.start)} – {when(o.end)}</td><td>{o.state}</td></tr>)}</tbody></table>
    </div>
  );
}
