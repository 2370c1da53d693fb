// Full-text and faceted search. The API applies the policy inside the query: words match only
// what this reader may read, totals count only what they may know of.
import { useEffect, useState } from "preact/hooks";
import { type SearchPage, Problem, get, whoami } from "../api/client";
import { Access, Snippet, Tlp } from "../components/marks";
import { go, href } from "../lib/route";
import { type SavedSearch, saveSearch, savedSearches } from "../lib/snippet";

const TYPES = ["rms.incident", "cad.incident", "sar", "stix", "ttp"];
const TLPS = ["CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED"];
const KEYS = ["q", "type", "agency", "tlp", "offense", "behavior", "since", "until"] as const;
// ISE-SAR Functional Standard behaviour categories, in plain words
const BEHAVIORS: Record<string, string> = {
  AVIATION: "aviation activity", CYBER: "cyberattack", ELICIT: "eliciting information", EXPERT: "acquiring expertise",
  INTRSN: "breach or attempted intrusion", MATRLS: "materials acquisition or storage", MISREP: "misrepresentation",
  PHOTO: "photography", RECRUT: "recruiting or financing", SABOT: "sabotage, tampering or vandalism",
  SECTOR: "sector-specific incident", SURVL: "observation or surveillance", TESTSEC: "testing or probing security",
  THEFT: "theft, loss or diversion", THREAT: "expressed or implied threat", WPNS: "weapons collection or discovery",
};
const PAGE = 25;

export function SearchView({ query }: { query: URLSearchParams }) {
  const params = Object.fromEntries(KEYS.map((k) => [k, query.get(k) ?? ""])) as Record<(typeof KEYS)[number], string>;
  const offset = Number(query.get("offset") ?? 0) || 0;
  const [page, setPage] = useState<SearchPage | null>(null);
  const [facets, setFacets] = useState<Record<string, Record<string, number>> | null>(null);
  const [error, setError] = useState("");
  const [subject, setSubject] = useState("");
  const [saved, setSaved] = useState<SavedSearch[]>([]);
  useEffect(() => {
    whoami().then((me) => {
      if (me) {
        setSubject(me.subject);
        setSaved(savedSearches(me.subject));
      }
    });
  }, []);
  useEffect(() => {
    setError("");
    const filters = {
      q: params.q || undefined,
      type: params.type ? [params.type] : undefined,
      agency: params.agency ? [params.agency] : undefined,
      tlp: params.tlp ? [params.tlp] : undefined,
      offense: params.offense ? [params.offense] : undefined,
      behavior: params.behavior ? [params.behavior] : undefined,
      since: params.since || undefined,
      until: params.until || undefined,
    };
    get("/api/v1/search", { ...filters, limit: PAGE, offset }).then(setPage, (e) =>
      setError(e instanceof Problem ? `${e.title}: ${e.detail}` : String(e)),
    );
    get("/api/v1/search/facets", filters).then(setFacets, () => setFacets(null));
  }, [query.toString()]);
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    go("search", [], Object.fromEntries(KEYS.map((k) => [k, String(f.get(k) ?? "")])));
  };
  const save = () => {
    const name = params.q || KEYS.map((k) => params[k]).filter(Boolean).join(" ") || "all";
    setSaved(saveSearch(subject, { name, params: Object.fromEntries(KEYS.filter((k) => params[k]).map((k) => [k, params[k]])) }));
  };
  return (
    <div class="search">
      <form class="filters" onSubmit={submit} aria-label="Search">
        <label class="grow">Words<input name="q" type="search" value={params.q} maxLength={500} placeholder="plate, name, offense, words…" /></label>
        <label>Type<select name="type" value={params.type}><option value="">any</option>{TYPES.map((t) => <option>{t}</option>)}</select></label>
        <label>Agency<input name="agency" value={params.agency} maxLength={9} placeholder="ORI" /></label>
        <label>TLP<select name="tlp" value={params.tlp}><option value="">any</option>{TLPS.map((t) => <option>{t}</option>)}</select></label>
        <label>Offense<input name="offense" value={params.offense} maxLength={8} placeholder="NIBRS, e.g. 120" /></label>
        <label>SAR behaviour<select name="behavior" value={params.behavior}><option value="">any</option>
          {Object.entries(BEHAVIORS).map(([k, v]) => <option value={k}>{v}</option>)}</select></label>
        <label>Since<input name="since" type="date" value={params.since.slice(0, 10)} /></label>
        <label>Until<input name="until" type="date" value={params.until.slice(0, 10)} /></label>
        <button type="submit" class="primary">Search</button>
        <button type="button" onClick={save} disabled={!subject}>Save search</button>
        <a class="button" href={href("map", [], { q: params.q, type: params.type, since: params.since, until: params.until })}>On the map</a>
      </form>
      {saved.length > 0 && (
        <nav class="saved" aria-label="Saved searches">
          Saved: {saved.map((s) => <a href={href("search", [], s.params)}>{s.name}</a>)}
        </nav>
      )}
      {error && <p role="alert" class="error">{error}</p>}
      {facets && (
        <nav class="facets" aria-label="Narrow by" data-testid="facets">
          {(["type", "agency", "tlp"] as const).map((f) => (
            <p>
              <strong>{f === "tlp" ? "TLP" : f[0].toUpperCase() + f.slice(1)}:</strong>{" "}
              {Object.entries(facets[f] ?? {}).map(([v, n]) => (
                <a href={href("search", [], { ...params, [f]: params[f] === v ? "" : v })} aria-current={params[f] === v ? "true" : undefined}>
                  {v} ({n})
                </a>
              ))}
            </p>
          ))}
        </nav>
      )}
      {page && (
        <>
          <p class="muted" data-testid="total">{page.total} result(s) you may know of</p>
          <ol class="hits" start={offset + 1}>
            {page.hits.map((h) => (
              <li data-testid="hit">
                <div class="hit-head">
                  <strong>{h.title}</strong> <Tlp tlp={h.tlp} /> <Access access={h.access} />
                  <span class="muted"> {h.kind} · {h.agency} · {h.occurred_at?.slice(0, 10)}</span>
                </div>
                {h.snippet && <Snippet text={h.snippet} />}
                {h.withheld && h.withheld.length > 0 && <p class="withheld">Withheld: {h.withheld.join(", ")}</p>}
                {h.access === "existence" && <p class="withheld">A record exists; contact {h.agency}.</p>}
                <EntityLinks event={h.fields?.event_id as string | undefined} ids={(h.fields?.entities as string[] | undefined) ?? []} />
              </li>
            ))}
          </ol>
          <nav class="pager" aria-label="Pages">
            {offset > 0 && <a href={href("search", [], { ...params, offset: String(Math.max(0, offset - PAGE)) })}>Previous</a>}
            {offset + PAGE < page.total && <a href={href("search", [], { ...params, offset: String(offset + PAGE) })}>Next</a>}
          </nav>
        </>
      )}
    </div>
  );
}

function EntityLinks({ event, ids }: { event?: string; ids: string[] }) {
  if (!ids.length) return null;
  const others = ids.filter((id) => id !== event);
  return (
    <p class="entities">
      {event && <a href={href("graph", [event])}>Link chart</a>}
      {event && <a href={href("timeline", ["entity", event])}>Timeline</a>}
      <span class="muted">Entities it mentions:</span> {others.slice(0, 8).map((id, i) => <a href={href("entity", [id])} aria-label={`Entity ${i + 1} of this record`}>{i + 1}</a>)}
    </p>
  );
}
