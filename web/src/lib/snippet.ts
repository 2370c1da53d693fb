// Search snippets mark matched words in [brackets]; the workbench shows them as <mark> through
// text nodes only (never innerHTML), so a record's own text can never become markup.
export interface Piece {
  text: string;
  hit: boolean;
}

export function pieces(snippet: string | null | undefined): Piece[] {
  if (!snippet) return [];
  const out: Piece[] = [];
  const re = /\[([^\]]*)\]/g;
  let at = 0;
  for (let m = re.exec(snippet); m !== null; m = re.exec(snippet)) {
    if (m.index > at) out.push({ text: snippet.slice(at, m.index), hit: false });
    out.push({ text: m[1], hit: true });
    at = m.index + m[0].length;
  }
  if (at < snippet.length) out.push({ text: snippet.slice(at), hit: false });
  return out;
}

export interface SavedSearch {
  name: string;
  params: Record<string, string>;
}

/** Saved searches live in this browser, per user: only the search's parameters, never results. */
export function savedSearches(subject: string, storage: Storage = localStorage): SavedSearch[] {
  try {
    const got = JSON.parse(storage.getItem(`argus.saved.${subject}`) ?? "[]");
    return Array.isArray(got) ? got.filter((s) => s && typeof s.name === "string" && s.params) : [];
  } catch {
    return [];
  }
}

export function saveSearch(subject: string, s: SavedSearch, storage: Storage = localStorage): SavedSearch[] {
  const all = [s, ...savedSearches(subject, storage).filter((x) => x.name !== s.name)].slice(0, 50);
  storage.setItem(`argus.saved.${subject}`, JSON.stringify(all));
  return all;
}
