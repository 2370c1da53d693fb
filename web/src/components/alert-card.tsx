// One alert as the policy delivered it: only the fields the record's marking lets this reader
// see arrive here, and what was withheld is named, never shown.
import type { Alert, AlertHit } from "../api/client";

const FIELD_NAMES: Record<string, string> = {
  offenses: "Offenses", series_id: "Series", occurred_at: "Occurred", ratings: "Rating", vehicles: "Vehicles",
  persons: "Persons", person_names: "Names", person_dobs: "DOBs", locations: "Locations", narrative: "Narrative",
  case_owner: "Case owner",
};

export function AlertCard({ alert, acked, onAck }: { alert: Alert; acked?: boolean; onAck?: () => void }) {
  const level = alert.level.toLowerCase();
  return (
    <article class={`alert level-${level}`} aria-label={`${alert.level} alert`} data-testid="alert" data-alert-id={alert.alert_id}>
      <header>
        <span class={`badge level-${level}`}>{alert.level}</span>
        <strong>{alert.summary}</strong>
      </header>
      <p class="safety" data-testid="safety">{alert.instructions}</p>
      <details open={!acked} class="hits-of-alert">
        <summary>{alert.hits.length} record(s) behind this alert</summary>
        {alert.hits.map((h) => <Hit hit={h} />)}
      </details>
      <footer>
        <time>{new Date(String(alert.created_at ?? "")).toLocaleString()}</time>
        {onAck && (
          <button type="button" onClick={onAck} disabled={acked} aria-pressed={acked}>
            {acked ? "Acknowledged" : "Acknowledge"}
          </button>
        )}
      </footer>
    </article>
  );
}

function Hit({ hit }: { hit: AlertHit }) {
  return (
    <section class="hit">
      <h3>
        {hit.matched} <span class={`tlp tlp-${hit.report_tlp.toLowerCase()}`}>TLP:{hit.report_tlp}</span>
      </h3>
      <p class="contact">Confirm with: <strong>{hit.contact}</strong></p>
      <dl>
        {Object.entries(hit.fields).map(([k, v]) => (
          <>
            <dt>{FIELD_NAMES[k] ?? k}</dt>
            <dd>{v}</dd>
          </>
        ))}
      </dl>
      {hit.withheld.length > 0 && (
        <p class="withheld">Withheld by the record's marking: {hit.withheld.map((w) => FIELD_NAMES[w] ?? w).join(", ")}</p>
      )}
      <details>
        <summary>Why this score ({hit.score})</summary>
        <ul>{hit.reasons.map((r) => <li>{r}</li>)}</ul>
      </details>
    </section>
  );
}
