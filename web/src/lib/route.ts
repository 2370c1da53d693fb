// Hash routes (#/search?q=civic, #/entity/<id>): the server serves one page at `/`, so a link
// to any view works after a reload and nothing but `/` needs a server route.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  view: string;
  args: string[];
  query: URLSearchParams;
}

export function parse(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const [path, qs] = raw.split("?", 2);
  const [view, ...args] = (path || "").split("/").map(decodeURIComponent);
  return { view: view || "", args, query: new URLSearchParams(qs || "") };
}

export function href(view: string, args: string[] = [], query?: Record<string, string | undefined>): string {
  const path = [view, ...args.map(encodeURIComponent)].join("/");
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) q.set(k, v);
  const s = q.toString();
  return `#/${path}${s ? `?${s}` : ""}`;
}

export function go(view: string, args: string[] = [], query?: Record<string, string | undefined>): void {
  window.location.hash = href(view, args, query);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parse(window.location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}
