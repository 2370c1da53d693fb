// Intelligence products: the library (every product the reader sees in full, drafts of their own
// agency), one product as the reader's copy (banner above and below, portion labels, what their
// marking kept out), its workflow step for the people whose step it is, who it reached, and
// feedback; the analyst's inbox of products delivered to them.
import { useEffect, useState } from "preact/hooks";
import { type Me, Problem, type Schemas, get, post } from "../api/client";
import { Tlp } from "../components/marks";
import { href } from "../lib/route";

type Summary = Schemas["ProductSummary"];
interface Para { text: string; portion: string | null; sources: string[] }
interface Section { key: string; title: string; paragraphs: Para[] }
interface Product {
  id: string; series: string; revision: number; type: string; title: string; state: string; urgency: string;
  agency: string; tlp: string; banner: string; version: number; removed: number; superseded_by: string | null;
  fields: Record<string, string>; embeds: { kind: string; ref: string; caption: string }[]; sources: string[];
  sections: Section[]; author?: string;
  steps?: { action: string; outcome: string; actor: string; at: string; reason: string }[];
}
const err = (e: unknown) => (e instanceof Problem ? `${e.title}: ${e.detail}` : String(e));
const TYPES: Record<string, string> = {
  situational_awareness: "Situational awareness", bolo: "BOLO", intelligence_assessment: "Intelligence assessment",
  threat_assessment: "Threat assessment", officer_safety: "Officer safety", sar_trend: "SAR trend report",
};

export function ProductsView({ me, query }: { me: Me; query: URLSearchParams }) {
  const [q, setQ] = useState(query.get("q") ?? "");
  const [type, setType] = useState("");
  const [page, setPage] = useState<Schemas["Library"] | null>(null);
  const [error, setError] = useState("");
  const load = () => get("/api/v1/products", { q, type, limit: 100 }).then(setPage, (e) => setError(err(e)));
  useEffect(() => { load(); }, [type]);
  return (
    <div class="products">
      <h2>Products <small>{page ? `${page.total} you may see` : ""}</small></h2>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); load(); }} role="search" aria-label="Library">
        <input aria-label="Words" placeholder="Words in the title, topic or text" value={q}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        <select aria-label="Type" value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
          <option value="">Any type</option>{Object.entries(TYPES).map(([k, v]) => <option value={k}>{v}</option>)}
        </select>
        <button type="submit">Search</button>
        {me.permissions.includes("decide") && <a class="button primary" href={href("product-new")}>New product</a>}
      </form>
      {error && <p role="alert" class="error">{error}</p>}
      <table data-testid="library">
        <thead><tr><th>Title</th><th>Type</th><th>State</th><th>Marking</th><th>From</th><th>Published</th></tr></thead>
        <tbody>{(page?.products ?? []).map((p: Summary) => (
          <tr data-id={p.id}>
            <td><a href={href("product", [p.id])}>{p.title}</a>{p.revision > 1 && <small> rev {p.revision}</small>}</td>
            <td>{TYPES[p.type] ?? p.type}</td><td>{p.state.toLowerCase().replace("_", " ")}</td>
            <td><Tlp tlp={p.tlp} /></td><td>{p.agency}</td><td>{p.published_at?.slice(0, 10) ?? "–"}</td>
          </tr>))}
        </tbody>
      </table>
    </div>
  );
}

function Steps({ p, me, onDone }: { p: Product; me: Me; onDone: (p: Product) => void }) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState("");
  const home = p.agency === me.agency && me.permissions.includes("decide");
  if (!home) return null;
  const author = p.author === me.subject;
  const act = (how: string, outcome?: string) => {
    setError("");
    post<Product>(`/api/v1/products/${encodeURIComponent(p.id)}/${how}`,
      { reason: reason || how, outcome, version: p.version }).then((x) => x && onDone(x), (e) => setError(err(e)));
  };
  const buttons: [string, string, string | undefined][] = [];
  if (p.state === "DRAFT" && author) buttons.push(["Submit for peer review", "submit", undefined]);
  const edit = p.state === "DRAFT" ? <a class="button" href={href("product-edit", [p.id])}>Edit draft</a> : null;
  if (p.state === "IN_REVIEW" && !author) buttons.push(["Pass review", "review", "PASS"], ["Return", "review", "RETURN"]);
  if (p.state === "REVIEWED" && !author && me.permissions.includes("review")) {
    buttons.push(["Approve", "approval", "APPROVE"], ["Return", "approval", "RETURN"]);
  }
  if (p.state === "APPROVED") buttons.push(["Publish", "publish", undefined]);
  if (p.state === "PUBLISHED") buttons.push(["New revision", "revise", undefined], ["Withdraw", "withdraw", undefined]);
  if (!buttons.length) return <p class="muted">Waiting for {p.state === "IN_REVIEW" ? "a peer" : "someone else"}.</p>;
  return (
    <section class="product-step" aria-label="Workflow">
      {error && <p role="alert" class="error">{error}</p>}
      <label>Why (kept in the audit trail)<input value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} /></label>
      {buttons.map(([label, how, outcome]) => (
        <button type="button" class={how === "publish" || outcome === "APPROVE" ? "primary" : ""}
          onClick={() => act(how, outcome)}>{label}</button>))}
      {edit}
    </section>
  );
}

function Reach({ p }: { p: Product }) {
  const [d, setD] = useState<Schemas["Deliveries"] | null>(null);
  useEffect(() => { get("/api/v1/products/{pid}/deliveries", undefined, { pid: p.id }).then(setD, () => undefined); }, [p.id, p.state]);
  if (!d || !d.deliveries.length) return null;
  return (
    <section aria-label="Dissemination">
      <h3>Dissemination <small>{d.delivered} delivered · {d.withheld} withheld · {d.read} read</small></h3>
      <table data-testid="deliveries">
        <thead><tr><th>Recipient</th><th>Agency</th><th>Channel</th><th>Status</th><th>Why</th><th>Read</th></tr></thead>
        <tbody>{d.deliveries.map((x) => (
          <tr class={x.status === "WITHHELD" ? "withheld" : ""}><td>{x.recipient}</td><td>{x.agency}</td><td>{x.channel}</td>
            <td>{x.status.toLowerCase()}</td><td>{x.reason}</td><td>{x.read_at?.slice(0, 16).replace("T", " ") ?? "–"}</td></tr>))}
        </tbody>
      </table>
    </section>
  );
}

export function FeedbackForm({ id, compact }: { id: string; compact?: boolean }) {
  const [f, set] = useState({ useful: 4, actionable: false, outcome: "none", comment: "" });
  const [msg, setMsg] = useState("");
  const send = (body: typeof f) => post(`/api/v1/products/${encodeURIComponent(id)}/feedback`, body)
    .then(() => setMsg("Thank you: feedback recorded."), (e) => setMsg(err(e)));
  if (compact) {
    return (
      <div class="one-tap" aria-label="Feedback">
        <button type="button" onClick={() => send({ ...f, useful: 5 })}>Useful</button>
        <button type="button" onClick={() => send({ ...f, useful: 5, actionable: true, outcome: "arrest" })}>Led to an arrest</button>
        {msg && <span role="status">{msg}</span>}
      </div>
    );
  }
  return (
    <form class="feedback" aria-label="Feedback" onSubmit={(e) => { e.preventDefault(); send(f); }}>
      <h3>Was it useful?</h3>
      <label>Usefulness (1-5)<input type="number" min={1} max={5} value={f.useful}
        onInput={(e) => set({ ...f, useful: Number((e.target as HTMLInputElement).value) })} /></label>
      <label class="inline"><input type="checkbox" checked={f.actionable}
        onChange={() => set({ ...f, actionable: !f.actionable })} />Actionable</label>
      <label>It led to<select value={f.outcome} onChange={(e) => set({ ...f, outcome: (e.target as HTMLSelectElement).value })}>
        {["none", "arrest", "seizure", "case_opened", "prevented", "identified", "other"].map((o) =>
          <option value={o}>{o.replace("_", " ")}</option>)}</select></label>
      <label>Comment<input maxLength={2000} value={f.comment}
        onInput={(e) => set({ ...f, comment: (e.target as HTMLInputElement).value })} /></label>
      <button type="submit">Send feedback</button> {msg && <span role="status">{msg}</span>}
    </form>
  );
}

export function ProductView({ id, me }: { id: string; me: Me }) {
  const [p, setP] = useState<Product | null>(null);
  const [error, setError] = useState("");
  useEffect(() => { get("/api/v1/products/{pid}", undefined, { pid: id }).then((x) => setP(x as unknown as Product), (e) => setError(err(e))); }, [id]);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!p) return <p class="loading">Loading…</p>;
  const base = `/api/v1/products/${encodeURIComponent(p.id)}`;
  return (
    <article class="product" aria-label={p.title}>
      <div class="banner" data-testid="banner">{p.banner}</div>
      <h2>{p.title} <small>{TYPES[p.type] ?? p.type} · {p.urgency.toLowerCase()} · revision {p.revision} · {p.state.toLowerCase()}</small></h2>
      {p.superseded_by && <p class="warn">Superseded by <a href={href("product", [p.superseded_by])}>a newer revision</a>.</p>}
      {Object.keys(p.fields).length > 0 && <dl class="fields">{Object.entries(p.fields).map(([k, v]) =>
        <><dt>{k.replace("_", " ")}</dt><dd>{v}</dd></>)}</dl>}
      {p.sections.map((s) => (
        <section><h3>{s.title}</h3>{s.paragraphs.map((x) => (
          <p>{x.portion && <strong class="portion">{x.portion} </strong>}{x.text}</p>))}</section>))}
      {p.removed > 0 && <p class="muted" data-testid="removed">{p.removed} paragraph(s) are not in your copy: their marking does not reach you.</p>}
      {p.embeds.length > 0 && <ul class="embeds">{p.embeds.map((e) => (
        <li>{String(e.kind)}: {e.kind === "entity" ? <a href={href("entity", [String(e.ref)])}>{String(e.caption || e.ref)}</a> : String(e.caption || e.ref)}</li>))}</ul>}
      <p class="exports"><a href={`${base}/pdf`}>PDF</a> · <a href={`${base}/html`} target="_blank" rel="noopener">Print view</a> ·{" "}
        <a href={`${base}/stix`}>STIX 2.1</a></p>
      <div class="banner">{p.banner}</div>
      <Steps p={p} me={me} onDone={setP} />
      {p.agency === me.agency && <Reach p={p} />}
      {p.steps && p.steps.length > 0 && (
        <details><summary>History</summary><ol>{p.steps.map((s) => (
          <li>{s.at.slice(0, 16).replace("T", " ")} · {s.action} {s.outcome.toLowerCase()} by {s.actor}: {s.reason}</li>))}</ol></details>)}
      {p.state === "PUBLISHED" && <FeedbackForm id={p.id} />}
    </article>
  );
}

export function ProductInboxView() {
  const [box, setBox] = useState<Schemas["Inbox"] | null>(null);
  useEffect(() => { get("/api/v1/product/inbox").then(setBox, () => undefined); }, []);
  if (!box) return <p class="loading">Loading…</p>;
  return (
    <div class="product-inbox">
      <h2>Inbox <small>{box.total}</small></h2>
      {box.total === 0 && <p>No products delivered to you.</p>}
      <ul data-testid="inbox">{box.products.map((x) => (
        <li class={x.read ? "" : "unread"}><a href={href("product", [String(x.id)])}>{String(x.title)}</a>{" "}
          <small>{TYPES[String(x.type)] ?? String(x.type)} · {String(x.urgency).toLowerCase()} · from {String(x.agency)}</small></li>))}
      </ul>
    </div>
  );
}

export function ProgrammeView() {
  const [m, setM] = useState<Schemas["Production"] | null>(null);
  useEffect(() => { get("/api/v1/product/metrics", { days: 90 }).then(setM, () => undefined); }, []);
  if (!m) return <p class="loading">Loading…</p>;
  const hours = m.publication_hours as { count: number; median: number | null };
  return (
    <div class="programme">
      <h2>Programme <small>{m.agency}, last 90 days</small></h2>
      <ul class="tiles" data-testid="programme">
        <li><strong>{m.products.filter((x) => x.state === "PUBLISHED").reduce((n, x) => n + Number(x.count), 0)}</strong> published</li>
        <li><strong>{hours.median === null ? "–" : hours.median.toFixed(1)}</strong> median hours to publication</li>
        <li><strong>{m.read_rate === null ? "–" : `${Math.round(m.read_rate * 100)}%`}</strong> read</li>
        <li><strong>{m.useful_mean === null ? "–" : m.useful_mean.toFixed(1)}</strong> usefulness (1-5)</li>
        <li><strong>{m.taskings_answered}</strong> taskings answered</li>
      </ul>
      <h3>Products</h3>
      <table><thead><tr><th>Type</th><th>State</th><th>Count</th></tr></thead><tbody>{m.products.map((x) => (
        <tr><td>{TYPES[String(x.type)] ?? String(x.type)}</td><td>{String(x.state).toLowerCase()}</td><td>{String(x.count)}</td></tr>))}</tbody></table>
      <h3>Reach</h3>
      <table><thead><tr><th>Channel</th><th>Status</th><th>Count</th><th>Read</th></tr></thead><tbody>{m.deliveries.map((x) => (
        <tr><td>{String(x.channel)}</td><td>{String(x.status).toLowerCase()}</td><td>{String(x.count)}</td><td>{String(x.read)}</td></tr>))}</tbody></table>
      <h3>Outcomes reported</h3>
      <table><thead><tr><th>Outcome</th><th>Feedback</th><th>Actionable</th></tr></thead><tbody>{m.feedback.map((x) => (
        <tr><td>{String(x.outcome).replace("_", " ")}</td><td>{String(x.count)}</td><td>{String(x.actionable)}</td></tr>))}</tbody></table>
    </div>
  );
}
