// Put something in one of the reader's cases: a choice of the cases they are a member of and a
// button; `act` does the work (link an entity, save the link chart) and says what happened.
import { useEffect, useState } from "preact/hooks";
import { Problem, get } from "../api/client";

/* eslint-disable @typescript-eslint/no-explicit-any */
export function ToCase({ label, act }: { label: string; act: (c: Record<string, any>) => Promise<unknown> }) {
  const [cases, setCases] = useState<Record<string, any>[]>([]);
  const [pick, setPick] = useState("");
  const [said, setSaid] = useState("");
  useEffect(() => { get("/api/v1/cases").then((r: any) => { setCases(r.cases); setPick(r.cases[0]?.id ?? ""); }, () => undefined); }, []);
  if (!cases.length) return null;
  const go = () => {
    const c = cases.find((x) => x.id === pick);
    if (c) act(c).then(() => setSaid(`Done: ${c.title}`), (e) => setSaid(e instanceof Problem ? e.detail : String(e)));
  };
  return (
    <span class="to-case">
      <label>Case<select value={pick} onChange={(e) => setPick((e.target as HTMLSelectElement).value)}>
        {cases.map((c) => <option value={c.id}>{c.title}</option>)}</select></label>
      <button type="button" onClick={go}>{label}</button>
      {said && <small role="status"> {said}</small>}
    </span>
  );
}
