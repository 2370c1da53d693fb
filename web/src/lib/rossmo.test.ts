import { describe, expect, it } from "vitest";
import { DEFAULTS, surface } from "./rossmo";

describe("Rossmo's geographic profile", () => {
  const ring = [0, 60, 120, 180, 240, 300].map((deg) => ({
    lat: 36.8 + 0.05 * Math.sin((deg * Math.PI) / 180),
    lon: -119.8 + 0.05 * Math.cos((deg * Math.PI) / 180),
  }));

  it("needs two sites, and sums to one", () => {
    expect(surface([{ lat: 1, lon: 1 }])).toBeNull();
    const s = surface(ring);
    expect(s).not.toBeNull();
    const total = Array.from(s?.values ?? []).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 6);
  });

  it("peaks inside a ring of offences, away from the buffer zone's dip at each site", () => {
    const s = surface(ring, { ...DEFAULTS, bufferKm: 2 });
    expect(Math.abs((s?.peak.lat ?? 0) - 36.8)).toBeLessThan(0.05);
    expect(Math.abs((s?.peak.lon ?? 0) + 119.8)).toBeLessThan(0.05);
  });

  it("follows its parameters: a steeper decay concentrates the surface", () => {
    const flat = surface(ring, { ...DEFAULTS, f: 0.5 });
    const steep = surface(ring, { ...DEFAULTS, f: 3 });
    const max = (v?: Float64Array) => Math.max(...(v ?? []));
    expect(max(steep?.values)).toBeGreaterThan(max(flat?.values));
  });
});
