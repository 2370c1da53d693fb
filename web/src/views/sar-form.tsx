// Reporting suspicious activity: the ISE-SAR form for agencies, partners and TLOs (with their
// own SARs' outcomes and feedback below it), and the same form, shorter, for the public tip
// page, which needs no login. The behaviour categories come from the API with their plain-words
// meaning, so a non-expert can choose one.
import { useEffect, useState } from "preact/hooks";
import { Problem, type Schemas, get, post } from "../api/client";

type Category = Schemas["Category"];
type Fields = Record<string, string>;

function Categories({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const [cats, setCats] = useState<Category[]>([]);
  useEffect(() => { get("/api/v1/sar/categories").then((c) => setCats(c.categories), () => undefined); }, []);
  const chosen = cats.find((c) => c.code === value);
  return (
    <fieldset class="categories">
      <legend>What kind of activity was it?</legend>
      <select required value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}
        aria-label="Behaviour category" data-testid="behavior">
        <option value="">Choose the closest…</option>
        {cats.map((c) => <option value={c.code}>{c.title}</option>)}
      </select>
      {chosen && <p class="plain" data-testid="plain">{chosen.plain}</p>}
    </fieldset>
  );
}

function Text({ name, label, f, set, area, required }: { name: string; label: string; f: Fields;
  set: (f: Fields) => void; area?: boolean; required?: boolean }) {  // prettier-ignore
  const on = (e: Event) => set({ ...f, [name]: (e.target as HTMLInputElement).value });
  return (
    <label>{label}
      {area ? <textarea name={name} value={f[name] ?? ""} onInput={on} required={required} rows={5} maxLength={8000} />
        : <input name={name} value={f[name] ?? ""} onInput={on} required={required} maxLength={256} />}
    </label>
  );
}

function body(f: Fields, tip: boolean): Record<string, unknown> {
  const where: Record<string, unknown> = { address: f.address || undefined };
  if (f.lat && f.lon) Object.assign(where, { lat: Number(f.lat), lon: Number(f.lon) });
  const contact = f.name ? { name: f.name, phone: f.phone || undefined, email: f.email || undefined } : undefined;
  const out: Record<string, unknown> = {
    behavior: f.behavior, occurred_at: new Date(f.when).toISOString(), narrative: f.narrative, where, contact,
    protected_activity: f.protected === "yes",
  };
  if (!tip) {
    out.tlp = f.tlp || "TLP:AMBER";
    if (f.plate) out.vehicles = [{ plate: f.plate, state: f.state || undefined, make: f.make || undefined }];
    if (f.surname) out.persons = [{ surname: f.surname, given: f.given || undefined }];
  }
  return out;
}

export function SarFormView({ tip }: { tip?: boolean }) {
  const [f, set] = useState<Fields>({ protected: "no" });
  const [msg, setMsg] = useState("");
  const [error, setError] = useState("");
  const send = (e: Event) => {
    e.preventDefault();
    setError("");
    setMsg("");
    post<{ sar_id?: string; receipt?: string }>(tip ? "/api/v1/tips" : "/api/v1/sars", body(f, !!tip)).then(
      (r) => { setMsg(`Received: ${r?.sar_id ?? r?.receipt}. Thank you.`); set({ protected: "no" }); },
      (e) => setError(e instanceof Problem ? `${e.title}: ${e.detail}` : String(e)),
    );
  };
  return (
    <div class="sar-form">
      <h2>{tip ? "Report something suspicious" : "Submit a SAR"}</h2>
      {tip && <p>Tell us what you saw. You may stay anonymous. In an emergency call 911.</p>}
      {msg && <p role="status" class="ok" data-testid="received">{msg}</p>}
      {error && <p role="alert" class="error">{error}</p>}
      <form onSubmit={send} aria-label={tip ? "Tip" : "SAR"}>
        <Categories value={f.behavior ?? ""} onChange={(v) => set({ ...f, behavior: v })} />
        <label>When did it happen?<input type="datetime-local" required value={f.when ?? ""}
          onInput={(e) => set({ ...f, when: (e.target as HTMLInputElement).value })} /></label>
        <Text name="narrative" label="What happened, and why did it seem suspicious?" f={f} set={set} area required />
        <Text name="address" label="Where (address or description of the place)" f={f} set={set} required />
        {!tip && <><Text name="surname" label="Person's surname, if known" f={f} set={set} />
          <Text name="given" label="Given name" f={f} set={set} />
          <Text name="plate" label="Vehicle plate, if seen" f={f} set={set} />
          <Text name="state" label="Plate state" f={f} set={set} /></>}
        <fieldset>
          <legend>Could the activity be protected by the Constitution (speech, protest, religion, the press)?</legend>
          {["no", "yes"].map((v) => (
            <label class="inline"><input type="radio" name="protected" value={v} checked={f.protected === v}
              onChange={() => set({ ...f, protected: v })} />{v === "yes" ? "Yes or maybe" : "No"}</label>
          ))}
        </fieldset>
        <Text name="name" label={tip ? "Your name (leave empty to stay anonymous)" : "Your name"} f={f} set={set}
          required={!tip} />
        <Text name="phone" label="Phone" f={f} set={set} />
        <button type="submit" class="primary">Send</button>
      </form>
      {!tip && <MySars />}
    </div>
  );
}

function MySars() {
  const [mine, setMine] = useState<Schemas["MySars"] | null>(null);
  useEffect(() => { get("/api/v1/sars/mine").then(setMine, () => undefined); }, []);
  if (!mine || mine.total === 0) return null;
  return (
    <section class="my-sars" aria-label="Your SARs">
      <h3>Your SARs</h3>
      <ul data-testid="my-sars">
        {mine.sars.map((s) => (
          <li data-id={s.id}><strong>{s.sar_id}</strong> {s.behavior} · {s.state.replace("_", "-")}
            {s.steps.filter((x) => x.feedback || x.questions.length).map((x) => (
              <p class="feedback">{x.feedback}{x.questions.map((q) => <span class="question"> {q}</span>)}</p>
            ))}
          </li>
        ))}
      </ul>
    </section>
  );
}
