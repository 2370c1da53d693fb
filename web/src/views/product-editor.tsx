// Drafting a product from its template: the template's sections and fields, the handling of the
// whole (TLP, caveats, criminal intelligence, cases), a portion marking on any paragraph that needs
// more restriction, the records it quotes, entities embedded by reference, and the dissemination
// list the policy resolves at publication. A new draft may start from an entity (?entity=<id>).
import { useEffect, useState } from "preact/hooks";
import { type Me, Problem, type Schemas, get, post, put } from "../api/client";
import { go, href } from "../lib/route";

interface Tpl { type: string; title: string; fields: string[]; tlp: string; caveats: string[];
  sections: { key: string; title: string; required: boolean; hint: string }[] }
interface Para { text: string; tlp: string; nfd: boolean; named: string; sources: string; cav: string[]; ci: boolean }
const NFD = "NO_FURTHER_DISSEMINATION";
const TLPS = ["CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED"];
const list = (s: string) => s.split(/[,\s]+/).map((x) => x.trim()).filter(Boolean);
const err = (e: unknown) => (e instanceof Problem ? `${e.title}: ${e.detail}` : String(e));
const blank = (): Para => ({ text: "", tlp: "", nfd: false, named: "", sources: "", cav: [], ci: false });

function body(t: Tpl, f: Record<string, string>, caveats: string[], paras: Record<string, Para[]>,
              fields: Record<string, string>, entity: string, flags: Record<string, boolean>) {
  const sections: Record<string, unknown[]> = {};
  for (const [k, ps] of Object.entries(paras)) {
    const kept = ps.filter((p) => p.text.trim());
    if (kept.length) sections[k] = kept.map((p) => ({
      text: p.text, sources: list(p.sources),
      portion: p.tlp || p.nfd || p.named || p.cav.length || p.ci ? {
        tlp: p.tlp || null, caveats: [...p.cav.filter((c) => c !== NFD), ...(p.nfd ? [NFD] : [])],
        criminal_intelligence: p.ci, named: list(p.named) } : null,
    }));
  }
  return {
    type: t.type, title: f.title, tlp: f.tlp || t.tlp, caveats, criminal_intelligence: flags.ci, urgency: f.urgency || "ROUTINE",
    category: f.category || "other", topic: f.topic ?? "", cases: list(f.cases ?? ""), sections, sources: list(f.sources ?? ""),
    fields: Object.fromEntries(Object.entries(fields).filter(([, v]) => v)),
    embeds: entity ? [{ kind: "entity", ref: entity, caption: f.entityCaption || "subject" }] : (f.embeds ? JSON.parse(f.embeds) : []),
    dissemination: { agencies: list(f.agencies ?? ""), units: list(f.units ?? ""), roles: list(f.roles ?? ""),
      regions: list(f.regions ?? ""), sectors: list(f.sectors ?? ""), named: list(f.named ?? ""),
      taxii: flags.taxii, private_sector: flags.psp },
  };
}

interface Loaded {
  id: string; version: number; type: string; title: string; tlp: string; caveats: string[]; criminal_intelligence: boolean;
  urgency: string; category: string; topic: string; cases?: string[]; fields: Record<string, string>;
  content?: Record<string, { text: string; portion: { tlp: string | null; caveats: string[]; ci: boolean;
    recipients: string[] } | null; sources: string[] }[]>;
  embeds?: unknown[];
  quoted?: string[]; dissemination?: Record<string, string[] | boolean>;
}

function prefill(p: Loaded) {
  const d = p.dissemination ?? {};
  const joined = (k: string) => ((d[k] as string[] | undefined) ?? []).join(", ");
  const f: Record<string, string> = {
    title: p.title, tlp: p.tlp, urgency: p.urgency, category: p.category, topic: p.topic, cases: (p.cases ?? []).join(", "),
    sources: (p.quoted ?? []).join(", "), agencies: joined("agencies"), units: joined("units"), roles: joined("roles"),
    regions: joined("regions"), sectors: joined("sectors"), named: joined("named"), embeds: JSON.stringify(p.embeds ?? []),
  };
  const paras = Object.fromEntries(Object.entries(p.content ?? {}).map(([k, ps]) => [k, ps.map((x) => ({
    text: x.text, tlp: x.portion?.tlp ?? "", nfd: (x.portion?.caveats ?? []).includes(NFD),
    cav: x.portion?.caveats ?? [], ci: Boolean(x.portion?.ci),
    named: (x.portion?.recipients ?? []).map((r) => r.replace(/^user:/, "")).join(", "), sources: x.sources.join(", "),
  }))]));
  return { f, paras, flags: { ci: p.criminal_intelligence, taxii: Boolean(d.taxii), psp: Boolean(d.private_sector) } };
}

export function ProductEditor({ me, query, id }: { me: Me; query: URLSearchParams; id?: string }) {
  const [tpls, setTpls] = useState<Tpl[]>([]);
  const [caveatNames, setCaveatNames] = useState<Record<string, string>>({});
  const [type, setType] = useState(query.get("type") ?? "bolo");
  const [f, set] = useState<Record<string, string>>({ urgency: "ROUTINE", category: "other", agencies: me.agency });
  const [caveats, setCaveats] = useState<string[] | null>(null);
  const [paras, setParas] = useState<Record<string, Para[]>>({});
  const [fields, setFields] = useState<Record<string, string>>({});
  const [flags, setFlags] = useState({ ci: false, taxii: false, psp: false });
  const [error, setError] = useState("");
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const entity = query.get("entity") ?? "";
  useEffect(() => {
    get("/api/v1/product/templates").then((r: Schemas["Templates"]) => {
      setTpls(r.templates as unknown as Tpl[]);
      setCaveatNames(r.caveats);
    }, () => undefined);
    if (id) get("/api/v1/products/{pid}", undefined, { pid: id }).then((x) => {
      const p = x as unknown as Loaded;
      const pre = prefill(p);
      setLoaded(p);
      setType(p.type);
      set(pre.f);
      setFields(p.fields);
      setFlags(pre.flags);
      setCaveats(p.caveats);
      setParas(pre.paras);
    }, (e) => setError(err(e)));
  }, [id]);
  const t = tpls.find((x) => x.type === type);
  useEffect(() => {
    if (!t || id) return;
    setCaveats(t.caveats);
    setParas(Object.fromEntries(t.sections.map((s) => [s.key, [blank()]])));
  }, [type, tpls.length]);
  if (error && id && !loaded) return <p role="alert" class="error">{error}</p>;
  if (!t || caveats === null || (id && !loaded)) return <p class="loading">Loading…</p>;
  const on = (k: string) => (e: Event) => set({ ...f, [k]: (e.target as HTMLInputElement).value });
  const para = (k: string, i: number, p: Partial<Para>) =>
    setParas({ ...paras, [k]: paras[k].map((x, j) => (j === i ? { ...x, ...p } : x)) });
  const save = (e: Event) => {
    e.preventDefault();
    setError("");
    const b = body(t, f, caveats, paras, fields, entity, flags);
    const saved = loaded ? put<{ id: string }>(`/api/v1/products/${encodeURIComponent(loaded.id)}`, { ...b, version: loaded.version })
      : post<{ id: string }>("/api/v1/products", b);
    saved.then((x) => x && go("product", [x.id]), (x) => setError(err(x)));
  };
  return (
    <form class="product-editor" onSubmit={save} aria-label={loaded ? "Edit product" : "New product"}>
      <h2>{loaded ? `Edit: ${loaded.title}` : `New ${t.title.toLowerCase()}`}</h2>
      {error && <p role="alert" class="error">{error}</p>}
      <label>Type<select value={type} disabled={Boolean(loaded)} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
        {tpls.map((x) => <option value={x.type}>{x.title}</option>)}</select></label>
      <label>Title<input required maxLength={300} value={f.title ?? ""} onInput={on("title")} /></label>
      <fieldset class="handling"><legend>Handling</legend>
        <label>TLP<select value={f.tlp || t.tlp} onChange={on("tlp")}>{TLPS.map((x) => <option value={x}>{x.replace("_", "+")}</option>)}</select></label>
        {Object.entries(caveatNames).map(([c, why]) => (
          <label class="inline" title={why}><input type="checkbox" checked={caveats.includes(c)}
            onChange={() => setCaveats(caveats.includes(c) ? caveats.filter((x) => x !== c) : [...caveats, c])} />{c}</label>))}
        <label class="inline"><input type="checkbox" checked={flags.ci} onChange={() => setFlags({ ...flags, ci: !flags.ci })} />
          Criminal intelligence (28 CFR Part 23)</label>
        <label>Cases<input value={f.cases ?? ""} onInput={on("cases")} placeholder="OP-COPPER" /></label>
        <label>Urgency<select value={f.urgency} onChange={on("urgency")}>{["ROUTINE", "PRIORITY", "FLASH"].map((u) => <option>{u}</option>)}</select></label>
        <label>Threat category<select value={f.category} onChange={on("category")}>{["terrorism", "organised_crime", "gang",
          "violent_crime", "cyber", "targeted_violence", "other"].map((c) => <option value={c}>{c.replace("_", " ")}</option>)}</select></label>
        <label>Topic<input value={f.topic ?? ""} onInput={on("topic")} /></label>
      </fieldset>
      {t.fields.length > 0 && <fieldset><legend>Fields</legend>{t.fields.map((k) => (
        <label>{k.replace("_", " ")}<input value={fields[k] ?? (k === "subject_entity" ? entity : "")}
          onInput={(e) => setFields({ ...fields, [k]: (e.target as HTMLInputElement).value })} /></label>))}</fieldset>}
      {entity && <p class="muted">Embeds entity <a href={href("entity", [entity])}>{entity.slice(0, 12)}</a> by reference.</p>}
      {t.sections.map((s) => (
        <fieldset class="section"><legend>{s.title}{s.required ? " (required)" : ""}</legend>
          <p class="muted">{s.hint}</p>
          {(paras[s.key] ?? []).map((p, i) => (
            <div class="paragraph">
              <textarea aria-label={`${s.title} paragraph ${i + 1}`} value={p.text} maxLength={8000}
                onInput={(e) => para(s.key, i, { text: (e.target as HTMLTextAreaElement).value })} />
              <label class="inline">Portion<select aria-label="Portion marking" value={p.tlp}
                onChange={(e) => para(s.key, i, { tlp: (e.target as HTMLSelectElement).value })}>
                <option value="">as the whole</option>{TLPS.map((x) => <option value={x}>{x.replace("_", "+")}</option>)}</select></label>
              <label class="inline"><input type="checkbox" checked={p.nfd} onChange={() => para(s.key, i, { nfd: !p.nfd })} />NFD</label>
              <input aria-label="Named on this paragraph" placeholder="named: user ids or ORIs" value={p.named}
                onInput={(e) => para(s.key, i, { named: (e.target as HTMLInputElement).value })} />
              <input aria-label="Sources quoted" placeholder="record ids quoted" value={p.sources}
                onInput={(e) => para(s.key, i, { sources: (e.target as HTMLInputElement).value })} />
            </div>))}
          <button type="button" onClick={() => setParas({ ...paras, [s.key]: [...(paras[s.key] ?? []), blank()] })}>Add paragraph</button>
        </fieldset>))}
      <label>Sources of the whole (record ids)<input value={f.sources ?? ""} onInput={on("sources")} /></label>
      <fieldset><legend>Dissemination</legend>
        <label>Agencies<input value={f.agencies ?? ""} onInput={on("agencies")} /></label>
        <label>Units<input value={f.units ?? ""} onInput={on("units")} /></label>
        <label>Roles<input value={f.roles ?? ""} onInput={on("roles")} placeholder="patrol_officer, analyst" /></label>
        <label>Regions<input value={f.regions ?? ""} onInput={on("regions")} /></label>
        <label>Sectors (lists)<input value={f.sectors ?? ""} onInput={on("sectors")} /></label>
        <label>Named people<input value={f.named ?? ""} onInput={on("named")} /></label>
        <label class="inline"><input type="checkbox" checked={flags.taxii} onChange={() => setFlags({ ...flags, taxii: !flags.taxii })} />
          Partner centres (TAXII)</label>
        <label class="inline"><input type="checkbox" checked={flags.psp} onChange={() => setFlags({ ...flags, psp: !flags.psp })} />
          Marked for private-sector partners</label>
      </fieldset>
      <button type="submit" class="primary">Save draft</button>
    </form>
  );
}
