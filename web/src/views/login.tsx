import { useEffect, useState } from "preact/hooks";
import { type Me, Problem, get, login } from "../api/client";

const ROLES = ["", "patrol_officer", "analyst", "supervisor", "terrorism_liaison_officer", "private_sector_partner",
  "auditor", "administrator"];

export function LoginView({ onLogin }: { onLogin: (me: Me) => void }) {
  const [key, setKey] = useState("");
  const [role, setRole] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [oidc, setOidc] = useState<{ label: string; login: string } | null>(null);
  useEffect(() => {
    get("/api/v1/session/methods").then((m) => setOidc((m.oidc as { label: string; login: string } | null) ?? null), () => undefined);
    if (window.location.hash === "#login-failed") {
      setError("The identity provider's login was not accepted here. Ask your administrator whether you are enrolled.");
      history.replaceState(null, "", "/");
    }
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      onLogin(await login(key.trim(), role));
      setKey("");
    } catch (err) {
      setError(err instanceof Problem && err.status === 401 ? "That key was not accepted." : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login" id="main">
      <h1>Argus</h1>
      <p class="muted">Fusion-centre workbench. Everything you see is limited by your role and each record's marking; every view is audited.</p>
      {oidc && (
        <p><a class="button primary" href={oidc.login} data-testid="oidc-login">Log in with {oidc.label}</a></p>
      )}
      <form onSubmit={submit} aria-label="Log in">
        <label for="apikey">API key</label>
        <input id="apikey" type="password" autocomplete="off" value={key} required minLength={10}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        <label for="role">Act as (optional)</label>
        <select id="role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
          {ROLES.map((r) => <option value={r}>{r ? r.replace(/_/g, " ") : "my first role"}</option>)}
        </select>
        <button type="submit" disabled={busy}>{busy ? "Logging in…" : "Log in"}</button>
        {error && <p role="alert" class="error">{error}</p>}
      </form>
    </main>
  );
}
