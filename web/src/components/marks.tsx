import { pieces } from "../lib/snippet";

export function Snippet({ text }: { text?: string | null }) {
  return <span class="snippet">{pieces(text).map((p) => (p.hit ? <mark>{p.text}</mark> : p.text))}</span>;
}

export function Tlp({ tlp }: { tlp: string }) {
  const t = tlp.replace(/^TLP:/, "");
  return <span class={`tlp tlp-${t.toLowerCase()}`}>TLP:{t}</span>;
}

export function Access({ access }: { access: string }) {
  const label = { full: "full", amber: "redacted", existence: "existence only" }[access] ?? access;
  return <span class={`access access-${access}`}>{label}</span>;
}
