// Rossmo's geographic profile (Rossmo 2000): over a grid around a series' offence sites, the
// likelihood that each cell holds the offender's anchor point, from a distance-decay term outside
// a buffer zone B and a rising term inside it. Manhattan distance, as the formula defines it.
//   p(cell) = k * sum_n [ phi / d^f + (1 - phi) * B^(g - f) / (2B - d)^g ],  phi = 1 if d > B else 0
export interface RossmoParams {
  f: number; // decay outside the buffer
  g: number; // rise inside the buffer
  bufferKm: number; // B
  cells: number; // grid cells per side
}

export const DEFAULTS: RossmoParams = { f: 1.2, g: 1.2, bufferKm: 1.0, cells: 60 };

export interface Surface {
  south: number;
  west: number;
  north: number;
  east: number;
  cells: number;
  values: Float64Array; // row-major from the north-west corner, normalised to sum 1
  peak: { lat: number; lon: number };
}

const KM_PER_DEG = 111.32;

export function surface(sites: { lat: number; lon: number }[], p: RossmoParams = DEFAULTS): Surface | null {
  if (sites.length < 2) return null;
  const lats = sites.map((s) => s.lat), lons = sites.map((s) => s.lon);
  const pad = 0.25;
  let south = Math.min(...lats), north = Math.max(...lats), west = Math.min(...lons), east = Math.max(...lons);
  const dLat = Math.max(north - south, 0.02) * pad, dLon = Math.max(east - west, 0.02) * pad;
  south -= dLat; north += dLat; west -= dLon; east += dLon;
  const n = p.cells;
  const values = new Float64Array(n * n);
  const cosLat = Math.cos((((south + north) / 2) * Math.PI) / 180);
  const B = p.bufferKm;
  let total = 0, best = -1, bestAt = 0;
  for (let r = 0; r < n; r++) {
    const lat = north - ((r + 0.5) * (north - south)) / n;
    for (let c = 0; c < n; c++) {
      const lon = west + ((c + 0.5) * (east - west)) / n;
      let v = 0;
      for (const s of sites) {
        const d = Math.abs(lat - s.lat) * KM_PER_DEG + Math.abs(lon - s.lon) * KM_PER_DEG * cosLat;
        const dd = Math.max(d, 1e-6);
        v += dd > B ? 1 / dd ** p.f : B ** (p.g - p.f) / (2 * B - dd) ** p.g;
      }
      values[r * n + c] = v;
      total += v;
      if (v > best) { best = v; bestAt = r * n + c; }
    }
  }
  for (let i = 0; i < values.length; i++) values[i] /= total;
  const r = Math.floor(bestAt / n), c = bestAt % n;
  const peak = { lat: north - ((r + 0.5) * (north - south)) / n, lon: west + ((c + 0.5) * (east - west)) / n };
  return { south, west, north, east, cells: n, values, peak };
}
