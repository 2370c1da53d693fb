// The possible-match review queue: persons entity resolution could not decide, strongest first,
// each with the fields that agree or differ and the weight each contributed, to confirm (one
// person from then on) or reject (kept apart for good). The API shows only matches whose record
// and both persons the caller sees in full; the decision is applied by the pipeline.
import { useEffect, useState } from "preact/hooks";
import { type Me, Problem, type Schemas, get, post } from "../api/client";
import { href } from "../lib/route";

type Match = Schemas["PossibleMatch"];

function Evidence({ m }: { m: Match }) {
  return (
    <table class="evidence" aria-label="Why these may be one person">
      <thead><tr><th>Field</th><th>Comparison</th><th>Weight (bits)</th></tr></thead>
      <tbody>
        {m.evidence.map((e) => (
          <tr class={e.weight >= 0 ? "for" : "against"}>
            <td>{e.field}</td><td>{e.level}</td><td>{e.weight >= 0 ? "+" : ""}{e.weight.toFixed(1)}</td>
          </tr>
        ))}
      </tbody>
      <tfoot><tr><th colSpan={2}>Match weight</th><th>{m.weight.toFixed(1)}</th></tr></tfoot>
    </table>
  );
}

function Person({ e, caption }: { e: Match["entity"]; caption: string }) {
  const p = e.props as Record<string, unknown>;
  return (
    <div class="person">
      <h4>{caption}</h4>
      <a href={href("entity", [e.id])}>{e.label}</a>
      <dl>{["dob", "sex", "race"].filter((k) => p[k]).map((k) => <><dt>{k}</dt><dd>{String(p[k])}</dd></>)}</dl>
    </div>
  );
}

export function ReviewView({ me }: { me: Me }) {
  const [queue, setQueue] = useState<Schemas["MatchQueue"] | null>(null);
  const [reason, setReason] = useState<Record<string, string>>({});
  const [done, setDone] = useState<Record<string, string>>({});
  const [error, setError] = useState("");
  const may = me.permissions.includes("decide");
  const load = () => get("/api/v1/matches", { limit: 100 }).then(setQueue, (e) => setError(String(e)));
  useEffect(() => { load(); }, []);
  const decide = (m: Match, verdict: "SAME" | "APART") => {
    setError("");
    post(`/api/v1/matches/${encodeURIComponent(m.id)}/decision`, { verdict, reason: reason[m.id] ?? "" }).then(
      () => setDone({ ...done, [m.id]: verdict === "SAME" ? "Confirmed: one person" : "Rejected: kept apart" }),
      (e) => setError(e instanceof Problem ? `${e.title}: ${e.detail}` : String(e)),
    );
  };
  if (!queue) return <p class="loading">{error || "Loading…"}</p>;
  return (
    <div class="review">
      <h2>Possible matches <small>{queue.total} to review</small></h2>
      {error && <p role="alert" class="error">{error}</p>}
      {queue.matches.length === 0 && <p data-testid="no-matches">Nothing to review.</p>}
      <ol class="matches" data-testid="matches">
        {queue.matches.map((m) => (
          <li data-testid="match" data-id={m.id}>
            <div class="pair">
              <Person e={m.entity} caption="Named in the record" />
              <Person e={m.other} caption="On file" />
            </div>
            <Evidence m={m} />
            {done[m.id] ? (
              <p role="status" class="ok">{done[m.id]}</p>
            ) : may ? (
              <form class="decide" onSubmit={(e) => e.preventDefault()} aria-label="Decision">
                <label>Reason<input value={reason[m.id] ?? ""} maxLength={2000} required minLength={3}
                  onInput={(e) => setReason({ ...reason, [m.id]: (e.target as HTMLInputElement).value })} /></label>
                <button type="button" class="primary" disabled={(reason[m.id] ?? "").length < 3} onClick={() => decide(m, "SAME")}>Same person</button>
                <button type="button" disabled={(reason[m.id] ?? "").length < 3} onClick={() => decide(m, "APART")}>Different people</button>
              </form>
            ) : null}
          </li>
        ))}
      </ol>
    </div>
  );
}
