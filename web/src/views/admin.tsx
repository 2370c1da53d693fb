// Administration of the administrator's own agency: users, roles, API keys (a new key is shown
// once), disabling a user (their sessions end at once).
import { useEffect, useState } from "preact/hooks";
import { type Me, Problem, del, get, post } from "../api/client";

type People = Awaited<ReturnType<typeof loadPeople>>;
const loadPeople = () => get("/api/v1/admin/people");
const ROLES = ["patrol_officer", "analyst", "supervisor", "terrorism_liaison_officer", "private_sector_partner", "auditor", "administrator"];

export function AdminView({ me }: { me: Me }) {
  const [people, setPeople] = useState<People | null>(null);
  const [error, setError] = useState("");
  const [newKey, setNewKey] = useState("");
  const [form, setForm] = useState({ id: "", name: "", role: "analyst", unit: "" });
  const fail = (e: unknown) => setError(e instanceof Problem ? `${e.title}: ${e.detail}` : String(e));
  useEffect(() => { loadPeople().then(setPeople, fail); }, []);
  const act = (p: Promise<unknown>) => { setError(""); p.then(() => loadPeople().then(setPeople), fail); };
  const add = (e: Event) => {
    e.preventDefault();
    act(post("/api/v1/admin/users", { id: form.id, name: form.name, roles: [form.role], unit: form.unit || undefined }));
  };
  const key = async (id: string) => {
    try {
      const k = (await post<{ key: string }>(`/api/v1/admin/users/${encodeURIComponent(id)}/keys`)) as { key: string };
      setNewKey(`${id}: ${k.key}`);
      setPeople(await loadPeople());
    } catch (e) { fail(e); }
  };
  return (
    <div class="admin">
      <h1>Administration <small class="muted">{me.agency_name ?? me.agency}</small></h1>
      {error && <p role="alert" class="error">{error}</p>}
      {newKey && <p role="status" class="ok">New key (shown once): <code data-testid="new-key">{newKey}</code></p>}
      <form class="filters" onSubmit={add} aria-label="Add a user">
        <label>User id<input value={form.id} required maxLength={64} pattern="[A-Za-z0-9.\-]+" onInput={(e) => setForm({ ...form, id: (e.target as HTMLInputElement).value })} /></label>
        <label>Name<input value={form.name} required maxLength={128} onInput={(e) => setForm({ ...form, name: (e.target as HTMLInputElement).value })} /></label>
        <label>Role<select value={form.role} onChange={(e) => setForm({ ...form, role: (e.target as HTMLSelectElement).value })}>{ROLES.map((r) => <option value={r}>{r.replace(/_/g, " ")}</option>)}</select></label>
        <label>Unit<input value={form.unit} maxLength={32} onInput={(e) => setForm({ ...form, unit: (e.target as HTMLInputElement).value })} /></label>
        <button type="submit" class="primary">Add user</button>
      </form>
      {people && (
        <>
          <h2>Users ({people.subjects.length})</h2>
          <table data-testid="users">
            <thead><tr><th>User</th><th>Name</th><th>Roles</th><th>Unit</th><th>Cases and lists</th><th>Keys</th><th>State</th><th /></tr></thead>
            <tbody>
              {people.subjects.map((s) => (
                <tr>
                  <td>{String(s.id)}</td><td>{String(s.name)}</td><td>{(s.roles as string[]).join(", ")}</td><td>{String(s.unit ?? "")}</td>
                  <td>
                    {[...(s.cases as string[]).map((n) => ["case", n]), ...(s.lists as string[]).map((n) => ["list", n])].map(([k, n]) => (
                      <span class="key">{k} {n}<button type="button" class="link" aria-label={`Remove ${k} ${n} from ${String(s.id)}`}
                        onClick={() => act(post(`/api/v1/admin/users/${encodeURIComponent(String(s.id))}/memberships`, { kind: k, name: n, member: false }))}>×</button></span>
                    ))}
                    <button type="button" class="link" onClick={() => {
                      const got = window.prompt("Add a membership: case:NAME or list:NAME");
                      const m = got?.match(/^(case|list):(.+)$/);
                      if (m) act(post(`/api/v1/admin/users/${encodeURIComponent(String(s.id))}/memberships`, { kind: m[1], name: m[2].trim(), member: true }));
                    }}>add</button>
                  </td>
                  <td>{(s.keys as { key_id: string; revoked: string | null }[]).map((k) => (
                    <span class="key">{k.key_id}{k.revoked ? " (revoked)" : <button type="button" class="link" onClick={() => act(del(`/api/v1/admin/keys/${k.key_id}`))}>revoke</button>}</span>
                  ))}</td>
                  <td>{s.disabled ? "disabled" : "active"}</td>
                  <td>
                    <button type="button" onClick={() => key(String(s.id))}>New key</button>
                    {!s.disabled && String(s.id) !== me.subject && <button type="button" onClick={() => act(post(`/api/v1/admin/users/${encodeURIComponent(String(s.id))}/disable`))}>Disable</button>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Agencies</h2>
          <form class="filters" aria-label="Agencies we do not share with" onSubmit={(e) => {
            e.preventDefault();
            const raw = String(new FormData(e.target as HTMLFormElement).get("barred") ?? "");
            act(post("/api/v1/admin/agency/barred", { barred: raw.split(/[\s,]+/).filter(Boolean) }));
          }}>
            <label class="grow">{me.agency_name ?? me.agency} shares nothing beyond TLP:CLEAR with (ORIs)
              <input name="barred" maxLength={2000}
                value={((people.agencies.find((a) => a.ori === me.agency)?.barred as string[]) ?? []).join(" ")} /></label>
            <button type="submit">Save</button>
          </form>
          <table>
            <thead><tr><th>ORI</th><th>Name</th><th>Law enforcement</th><th>Community</th><th>Bars</th></tr></thead>
            <tbody>{people.agencies.map((a) => (
              <tr><td>{String(a.ori)}</td><td>{String(a.name)}</td><td>{a.law_enforcement ? "yes" : "no"}</td><td>{String(a.community ?? "")}</td><td>{((a.barred as string[]) ?? []).join(", ")}</td></tr>
            ))}</tbody>
          </table>
        </>
      )}
    </div>
  );
}
