// The patrol officer's screen (a mobile data terminal: small, touch): run a plate, a person or a
// VIN, see the answer and any alert at once, and the unit's live inbox.
import { useEffect, useState } from "preact/hooks";
import { type Alert, type FieldAnswer, type Me, Problem, get, post } from "../api/client";
import { AlertCard } from "../components/alert-card";
import { type ProductDelivery, mergeAlert, mergeProduct, openInbox } from "../lib/inbox";
import { FeedbackForm } from "./products";

type Kind = "plate" | "person" | "vin";

export function FieldView({ me }: { me: Me }) {
  const [inbox, setInbox] = useState<Alert[]>([]);
  const [bolos, setBolos] = useState<ProductDelivery[]>([]);
  const [acked, setAcked] = useState<Set<string>>(new Set());
  const [state, setState] = useState<"live" | "reconnecting">("reconnecting");
  useEffect(() => {
    get("/api/v1/field/alerts/acks").then((r) => setAcked(new Set(r.alert_ids)), () => undefined);
    return openInbox((a) => setInbox((l) => mergeAlert(l, a)), setState, (p) => setBolos((l) => mergeProduct(l, p)));
  }, []);
  const ack = async (id: string) => {
    await post(`/api/v1/field/alerts/${encodeURIComponent(id)}/ack`);
    setAcked((s) => new Set([...s, id]));
  };
  return (
    <div class="field">
      <QueryPanel me={me} onAlerts={(as) => setInbox((l) => as.reduce(mergeAlert, l))} />
      <section aria-labelledby="inbox-h" class="inbox">
        <h2 id="inbox-h">
          Alerts for {me.unit ? `unit ${me.unit}` : me.name}{" "}
          <span class={`live ${state}`} data-testid="stream-state">{state === "live" ? "● live" : "○ reconnecting"}</span>
        </h2>
        {bolos.map((b) => (
          <article class={`bolo ${b.urgency.toLowerCase()}`} data-testid="bolo" aria-label={b.title}>
            <div class="banner">{b.banner}</div>
            <h3>{b.product_type === "bolo" ? "BOLO" : "Officer safety"}: {b.title}</h3>
            {b.fields.plate && <p class="plate">Plate {b.fields.plate}</p>}
            <pre class="bolo-text">{b.text.split("\n").slice(3, -1).join("\n")}</pre>
            <button type="button" onClick={() => post(`/api/v1/products/${encodeURIComponent(b.product)}/receipt`)}>Received</button>
            <FeedbackForm id={b.product} compact />
          </article>))}
        {inbox.length === 0 && bolos.length === 0 && <p class="muted">No alerts.</p>}
        {inbox.map((a) => <AlertCard alert={a} acked={acked.has(a.alert_id)} onAck={() => ack(a.alert_id)} />)}
      </section>
    </div>
  );
}

function QueryPanel({ me, onAlerts }: { me: Me; onAlerts: (a: Alert[]) => void }) {
  const [kind, setKind] = useState<Kind>("plate");
  const [form, setForm] = useState({ plate: "", state: "CA", name: "", dob: "", vin: "" });
  const [answer, setAnswer] = useState<FieldAnswer | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const run = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    setAnswer(null);
    const q: Record<string, string> = { query_id: `WB-${crypto.randomUUID().slice(0, 18)}` };
    if (kind === "plate") Object.assign(q, { plate: form.plate.trim(), state: form.state.trim() });
    if (kind === "person") Object.assign(q, { name: form.name.trim(), dob: form.dob || undefined });
    if (kind === "vin") q.vin = form.vin.trim();
    try {
      const a = (await post<FieldAnswer>("/api/v1/field/query?wait=5", q)) as FieldAnswer;
      setAnswer(a);
      onAlerts(a.alerts);
    } catch (err) {
      setError(err instanceof Problem ? `${err.title}: ${err.detail}` : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="query" aria-labelledby="query-h">
      <h2 id="query-h">Run a query <small class="muted">as {me.name}{me.unit ? `, unit ${me.unit}` : ""}</small></h2>
      <div role="tablist" class="tabs">
        {(["plate", "person", "vin"] as Kind[]).map((k) => (
          <button type="button" role="tab" aria-selected={kind === k} onClick={() => setKind(k)}>
            {k === "vin" ? "VIN" : k[0].toUpperCase() + k.slice(1)}
          </button>
        ))}
      </div>
      <form onSubmit={run} aria-label={`${kind} query`}>
        {kind === "plate" && (
          <div class="row">
            <label>Plate<input name="plate" value={form.plate} onInput={set("plate")} required maxLength={16} autocapitalize="characters" /></label>
            <label class="narrow">State<input name="state" value={form.state} onInput={set("state")} maxLength={2} /></label>
          </div>
        )}
        {kind === "person" && (
          <div class="row">
            <label>Name (LAST, FIRST)<input name="name" value={form.name} onInput={set("name")} required maxLength={128} /></label>
            <label>DOB<input name="dob" type="date" value={form.dob} onInput={set("dob")} /></label>
          </div>
        )}
        {kind === "vin" && (
          <label>VIN<input name="vin" value={form.vin} onInput={set("vin")} required maxLength={24} /></label>
        )}
        <button type="submit" class="primary" disabled={busy}>{busy ? "Running…" : "Run"}</button>
      </form>
      {error && <p role="alert" class="error">{error}</p>}
      {answer && (
        <div class={`answer status-${answer.status.toLowerCase()}`} data-testid="answer" role="status">
          {answer.status === "HIT" && `HIT: ${answer.alerts.length} alert(s)`}
          {answer.status === "NO_HIT" && "No record on file that you may be told of."}
          {answer.status === "PENDING" && "Still being checked: any alert will arrive in the inbox."}
        </div>
      )}
    </section>
  );
}
