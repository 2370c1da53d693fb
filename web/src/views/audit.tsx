// The audit trail for auditors: their agency's entries and every dissemination of its records,
// filtered and paged, with the chain's integrity checked on demand.
import { useEffect, useState } from "preact/hooks";
import { type AuditPage, type AuditVerdict, Problem, get } from "../api/client";

export function AuditView() {
  const [filters, setFilters] = useState({ actor: "", action: "", object: "", since: "" });
  const [page, setPage] = useState<AuditPage | null>(null);
  const [after, setAfter] = useState(0);
  const [verdict, setVerdict] = useState<AuditVerdict | null>(null);
  const [error, setError] = useState("");
  const load = (from = 0) => {
    setError("");
    get("/api/v1/audit", {
      actor: filters.actor || undefined, action: filters.action || undefined, object: filters.object || undefined,
      since: filters.since || undefined, after: from, limit: 100,
    }).then((p) => { setPage(p); setAfter(from); }, (e) => setError(e instanceof Problem ? `${e.title}: ${e.detail}` : String(e)));
  };
  useEffect(() => load(0), []);
  const set = (k: keyof typeof filters) => (e: Event) => setFilters({ ...filters, [k]: (e.target as HTMLInputElement).value });
  return (
    <div class="audit">
      <form class="filters" onSubmit={(e) => { e.preventDefault(); load(0); }} aria-label="Audit filters">
        <label>Who<input value={filters.actor} onInput={set("actor")} maxLength={128} /></label>
        <label>Action<select value={filters.action} onChange={set("action")}>
          {["", "read", "login", "logout", "disseminate", "deny", "write", "submit", "review", "export", "purge", "admin", "acknowledge"].map((a) => <option value={a}>{a || "any"}</option>)}
        </select></label>
        <label>Object<input value={filters.object} onInput={set("object")} maxLength={256} /></label>
        <label>Since<input type="date" value={filters.since} onInput={set("since")} /></label>
        <button type="submit" class="primary">Filter</button>
        <button type="button" onClick={() => get("/api/v1/audit/verify").then(setVerdict, (e) => setError(String(e)))}>Verify chain</button>
      </form>
      {verdict && (
        <p role="status" class={verdict.ok ? "ok" : "error"} data-testid="verdict">
          {verdict.ok ? `Chain intact: ${verdict.entries} entries verified.` : `Chain broken at entry ${verdict.first_bad}: ${verdict.problem}`}
        </p>
      )}
      {error && <p role="alert" class="error">{error}</p>}
      {page && (
        <>
          <table class="entries" data-testid="audit-entries">
            <thead><tr><th>#</th><th>When</th><th>Who</th><th>Agency</th><th>Action</th><th>Object</th><th>Outcome</th><th>Detail</th></tr></thead>
            <tbody>
              {page.entries.map((e) => (
                <tr>
                  <td>{String(e.seq)}</td><td>{String(e.at).slice(0, 19).replace("T", " ")}</td><td>{String(e.actor)}</td>
                  <td>{String(e.agency)}</td><td>{String(e.action)}</td><td><code>{String(e.object ?? "")}</code></td>
                  <td>{String(e.outcome)}</td><td class="detail">{e.reason ? `${e.reason} ` : ""}{JSON.stringify(e.detail ?? {})}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav class="pager">
            {after > 0 && <button type="button" onClick={() => load(0)}>First</button>}
            {page.entries.length === 100 && <button type="button" onClick={() => load(page.next_after)}>Next</button>}
          </nav>
        </>
      )}
    </div>
  );
}
