import { describe, expect, it } from "vitest";
import { pieces, saveSearch, savedSearches } from "./snippet";

describe("snippets", () => {
  it("marks bracketed words and keeps the rest as text", () => {
    expect(pieces("…HOND [CIVIC] 1ART331 [CA]")).toEqual([
      { text: "…HOND ", hit: false }, { text: "CIVIC", hit: true }, { text: " 1ART331 ", hit: false }, { text: "CA", hit: true },
    ]);
    expect(pieces(null)).toEqual([]);
  });

  it("never turns a record's text into markup", () => {
    const p = pieces("<img src=x onerror=alert(1)> [<b>]");
    expect(p.map((x) => x.text).join("")).toBe("<img src=x onerror=alert(1)> <b>");
  });
});

describe("saved searches", () => {
  it("are kept per user, newest first, by name", () => {
    const s = new Map<string, string>();
    const storage = { getItem: (k: string) => s.get(k) ?? null, setItem: (k: string, v: string) => void s.set(k, v) } as Storage;
    saveSearch("u1", { name: "civic", params: { q: "civic" } }, storage);
    saveSearch("u1", { name: "sar", params: { type: "sar" } }, storage);
    saveSearch("u1", { name: "civic", params: { q: "civic", tlp: "AMBER" } }, storage);
    expect(savedSearches("u1", storage).map((x) => x.name)).toEqual(["civic", "sar"]);
    expect(savedSearches("u2", storage)).toEqual([]);
    s.set("argus.saved.u3", "not json");
    expect(savedSearches("u3", storage)).toEqual([]);
  });
});
