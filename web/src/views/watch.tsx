// The watch officer's live board for the shift: alerts by severity as they arrive (the agency's,
// through the policy), new SARs, SARs past their review SLA, SAR patterns, pipeline lag and dead
// letters.
import { useEffect, useState } from "preact/hooks";
import { type Alert, type Me, type SearchPage, get } from "../api/client";
import { AlertCard } from "../components/alert-card";
import { mergeAlert, openInbox } from "../lib/inbox";
import { href } from "../lib/route";

const SHIFT_HOURS = 12;
const LEVELS = ["HIGH", "MEDIUM", "LOW"];

export function WatchView({ me }: { me: Me }) {
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [state, setState] = useState<"live" | "reconnecting">("reconnecting");
  const [sars, setSars] = useState<SearchPage | null>(null);
  const [board, setBoard] = useState<{ lag: Record<string, number>; dead_letters: number;
    sars: Record<string, number> } | null>(null);
  const since = new Date(Date.now() - SHIFT_HOURS * 3600_000).toISOString();
  useEffect(() => openInbox((a) => setAlerts((l) => mergeAlert(l, a)), setState), []);
  useEffect(() => {
    const load = () => {
      get("/api/v1/search", { type: ["sar"], since, limit: 10 }).then(setSars, () => undefined);
      get("/api/v1/ops/board").then(setBoard, () => undefined);
    };
    load();
    const t = setInterval(load, 15_000);
    return () => clearInterval(t);
  }, []);
  const shift = alerts.filter((a) => String(a.created_at ?? "") >= since);
  const lag = board ? Object.values(board.lag).reduce((x, y) => x + y, 0) : null;
  return (
    <div class="watch">
      <h1>Watch board <small class="muted">{me.agency_name ?? me.agency}, the last {SHIFT_HOURS} hours</small>{" "}
        <span class={`live ${state}`} data-testid="stream-state">{state === "live" ? "● live" : "○ reconnecting"}</span></h1>
      <div class="tiles">
        {LEVELS.map((l) => (
          <div class={`tile level-${l.toLowerCase()}`}><span class="n" data-testid={`count-${l}`}>{shift.filter((a) => a.level === l).length}</span> {l} alerts</div>
        ))}
        <div class="tile"><span class="n">{sars?.total ?? "…"}</span> <a href={href("search", [], { type: "sar", since: since.slice(0, 10) })}>new SARs</a></div>
        <div class="tile"><span class="n">{lag ?? "…"}</span> records waiting in the pipeline</div>
        <div class="tile"><span class="n" data-testid="dead-letters">{board?.dead_letters ?? "…"}</span> dead letters</div>
        <div class={`tile${board?.sars.breached ? " level-high" : ""}`}><span class="n" data-testid="sars-breached">
          {board?.sars.breached ?? "…"}</span> <a href={href("sars")}>SARs past their SLA</a> of {board?.sars.open ?? "…"} waiting</div>
        <div class="tile"><span class="n" data-testid="sar-patterns">{board?.sars.patterns_7d ?? "…"}</span> SAR patterns this week</div>
      </div>
      {board && (
        <details><summary>Lag by stage</summary>
          <table><tbody>{Object.entries(board.lag).map(([k, v]) => <tr><td>{k}</td><td>{v}</td></tr>)}</tbody></table>
        </details>
      )}
      <h2>Alerts</h2>
      {shift.length === 0 && <p class="muted">No alerts this shift.</p>}
      {shift.map((a) => <AlertCard alert={a} />)}
    </div>
  );
}
