// An entity profile: the resolved entity as the reader's visible sources tell it, every source
// record they may know of with why it matched, what was merged into it and why, and unmerge.
import { useEffect, useState } from "preact/hooks";
import { type Me, type Profile, Problem, get, post } from "../api/client";
import { Access, Tlp } from "../components/marks";
import { ToCase } from "../components/to-case";
import { href } from "../lib/route";

export function EntityView({ id, me }: { id: string; me: Me }) {
  const [p, setP] = useState<Profile | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    setP(null);
    setError("");
    get("/api/v1/entities/{entity_id}", undefined, { entity_id: id }).then(setP, (e) =>
      setError(e instanceof Problem && e.status === 404 ? "No entity you may see has this id." : String(e)),
    );
  }, [id]);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!p) return <p class="loading">Loading…</p>;
  const e = p.entity;
  return (
    <article class="entity" aria-labelledby="entity-h">
      <h1 id="entity-h">
        {e.label} <small class="muted">{e.subtype}</small> <Access access={e.access} />
      </h1>
      {p.requested_id !== e.id && <p class="muted">{p.requested_id} was merged into this entity.</p>}
      <nav class="actions">
        <a class="button" href={href("graph", [e.id])}>Link analysis</a>
        <a class="button" href={href("timeline", ["entity", e.id])}>Timeline</a>
        {me.permissions.includes("decide") && (
          <a class="button" href={href("product-new", [], { type: "bolo", entity: e.id })}>Draft a BOLO</a>
        )}
        {me.permissions.includes("submit") && (
          <ToCase label="Add to case" act={(c) => post(`/api/v1/cases/${c.id}/links`, { kind: "entity", ref: e.id, note: e.label })} />
        )}
      </nav>
      <dl class="props">
        {Object.entries(e.props).filter(([, v]) => typeof v !== "object").map(([k, v]) => (
          <><dt>{k}</dt><dd>{String(v)}</dd></>
        ))}
      </dl>
      <h2>Source records ({p.sources.length})</h2>
      <table class="sources">
        <thead><tr><th>Record</th><th>Agency</th><th>Marking</th><th>Match</th><th>Why</th></tr></thead>
        <tbody>
          {p.sources.map((s) => (
            <tr>
              <td><code>{String(s.record_id).slice(0, 8)}</code> {s.label ? String(s.label) : ""}</td>
              <td>{String(s.agency)}</td>
              <td><Tlp tlp={String(s.tlp)} /> <Access access={String(s.access)} /></td>
              <td>{String(s.method)} {Number(s.score).toFixed(2)}</td>
              <td>{s.reason === "withheld" ? <span class="withheld">withheld by marking</span> : String(s.reason)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Merges p={p} me={me} />
    </article>
  );
}

function Merges({ p, me }: { p: Profile; me: Me }) {
  const [done, setDone] = useState("");
  const [error, setError] = useState("");
  if (!p.merged_from.length) return <p class="muted">Nothing was merged into this entity.</p>;
  const unmerge = async (from: string) => {
    const reason = window.prompt("Why are these different entities? (recorded in the audit trail)");
    if (!reason) return;
    try {
      await post(`/api/v1/entities/${encodeURIComponent(from)}/unmerge`, { reason });
      setDone(from);
    } catch (e) {
      setError(e instanceof Problem ? `${e.title}: ${e.detail}` : String(e));
    }
  };
  return (
    <section>
      <h2>Merged into this entity</h2>
      <ul class="merges">
        {p.merged_from.map((m) => (
          <li>
            <code>{String(m.merged).slice(0, 8)}</code> {String(m.reason ?? "")}
            {m.score !== undefined && <span class="muted"> (score {Number(m.score).toFixed(2)})</span>}
            {!m.reason && <span class="withheld"> the reason is in a record you see redacted</span>}
            {me.permissions.includes("decide") && (
              <button type="button" onClick={() => unmerge(String(m.merged))} disabled={done === String(m.merged)}>
                {done === String(m.merged) ? "Unmerge sent" : "Unmerge"}
              </button>
            )}
          </li>
        ))}
      </ul>
      {error && <p role="alert" class="error">{error}</p>}
    </section>
  );
}
