// Events on a map with clusters, and a series' geographic profile. The basemap is shipped with
// the workbench (state and county boundaries from us-atlas), so nothing is fetched from outside
// the origin; a site with its own tile server sets `api.tile_url` in topology.yaml.
import L from "leaflet";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import countiesUrl from "us-atlas/counties-10m.json?url";
import statesUrl from "us-atlas/states-10m.json?url";
import { useEffect, useRef, useState } from "preact/hooks";
import { type GeoAnswer, Problem, get, whoami } from "../api/client";
import { DEFAULTS, type RossmoParams, type Surface, surface } from "../lib/rossmo";

async function basemap(map: L.Map, tileUrl: string | null | undefined): Promise<void> {
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 18 }).addTo(map);
    return;
  }
  const [states, counties] = (await Promise.all([fetch(statesUrl), fetch(countiesUrl)].map((p) => p.then((r) => r.json())))) as Topology[];
  const geo = (t: Topology, key: string) => feature(t, t.objects[key] as GeometryCollection);
  L.geoJSON(geo(counties, "counties"), { style: { color: "#6b7280", weight: 0.6, fill: false }, interactive: false }).addTo(map);
  L.geoJSON(geo(states, "states"), { style: { color: "#d1d5db", weight: 1.4, fillColor: "#1f2937", fillOpacity: 0.4 }, interactive: false }).addTo(map);
}

function heat(s: Surface): string {
  const c = document.createElement("canvas");
  c.width = c.height = s.cells;
  const ctx = c.getContext("2d") as CanvasRenderingContext2D;
  const img = ctx.createImageData(s.cells, s.cells);
  let max = 0;
  for (const v of s.values) max = Math.max(max, v);
  s.values.forEach((v, i) => {
    const t = v / max;
    img.data.set([255, Math.round(220 * (1 - t)), 0, Math.round(200 * t ** 1.5)], i * 4);
  });
  ctx.putImageData(img, 0, 0);
  return c.toDataURL();
}

export function MapView({ query }: { query: URLSearchParams }) {
  const box = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const events = useRef<L.LayerGroup | null>(null);
  const profile = useRef<L.LayerGroup | null>(null);
  const [geo, setGeo] = useState<GeoAnswer | null>(null);
  const [series, setSeries] = useState(query.get("series") ?? "");
  const [params, setParams] = useState<RossmoParams>(DEFAULTS);
  const [note, setNote] = useState("");
  const [error, setError] = useState("");

  useEffect(() => {
    const m = L.map(box.current as HTMLElement, { preferCanvas: true, attributionControl: false }).setView([36.78, -119.78], 9);
    map.current = m;
    events.current = L.layerGroup().addTo(m);
    profile.current = L.layerGroup().addTo(m);
    whoami().then((me) => basemap(m, me?.tile_url));
    return () => m.remove();
  }, []);
  useEffect(() => {
    get("/api/v1/geo", {
      q: query.get("q") || undefined, type: query.get("type") ? [String(query.get("type"))] : undefined,
      since: query.get("since") || undefined, until: query.get("until") || undefined, cell_km: 2, limit: 2000,
    }).then(setGeo, (e) => setError(e instanceof Problem ? `${e.title}: ${e.detail}` : String(e)));
  }, [query.toString()]);
  useEffect(() => {
    const layer = events.current;
    if (!layer || !geo) return;
    layer.clearLayers();
    for (const c of geo.clusters) {
      const n = Number(c.count);
      L.circleMarker([Number(c.lat), Number(c.lon)], { radius: 5 + Math.sqrt(n) * 3, color: "#60a5fa", weight: 1, fillOpacity: 0.6 })
        .bindTooltip(`${n} event(s)`).addTo(layer);
    }
    const pts = geo.points.map((p) => [Number(p.lat), Number(p.lon)] as [number, number]);
    if (pts.length) map.current?.fitBounds(L.latLngBounds(pts).pad(0.2));
  }, [geo]);

  const runProfile = async (e: Event) => {
    e.preventDefault();
    setError("");
    setNote("");
    try {
      const t = await get("/api/v1/cases/{series}/timeline", { limit: 500 }, { series: series.trim() });
      const sites = t.events.filter((x) => x.lat != null && x.lon != null).map((x) => ({ lat: Number(x.lat), lon: Number(x.lon) }));
      const s = surface(sites, params);
      profile.current?.clearLayers();
      if (!s) {
        setNote(`Series ${series}: ${sites.length} offence location(s) you may see; a profile needs at least 2.`);
        return;
      }
      L.imageOverlay(heat(s), [[s.south, s.west], [s.north, s.east]], { opacity: 0.75 }).addTo(profile.current as L.LayerGroup);
      for (const p of sites) L.circleMarker([p.lat, p.lon], { radius: 6, color: "#f87171", weight: 2 }).addTo(profile.current as L.LayerGroup);
      L.circleMarker([s.peak.lat, s.peak.lon], { radius: 9, color: "#facc15", weight: 3, fill: false }).bindTooltip("peak likelihood").addTo(profile.current as L.LayerGroup);
      map.current?.fitBounds([[s.south, s.west], [s.north, s.east]]);
      setNote(`Series ${series}: ${sites.length} offence location(s); peak at ${s.peak.lat.toFixed(4)}, ${s.peak.lon.toFixed(4)}.`);
    } catch (err) {
      setError(err instanceof Problem ? `${err.title}: ${err.detail}` : String(err));
    }
  };
  const num = (k: keyof RossmoParams) => (e: Event) => setParams({ ...params, [k]: Number((e.target as HTMLInputElement).value) });
  return (
    <div class="map">
      <form class="toolbar" onSubmit={runProfile} aria-label="Geographic profile">
        <label>Series<input value={series} onInput={(e) => setSeries((e.target as HTMLInputElement).value)} required maxLength={128} placeholder="ROB-2026-014" /></label>
        <label>f<input type="number" step="0.1" min="0.1" max="5" value={params.f} onInput={num("f")} /></label>
        <label>g<input type="number" step="0.1" min="0.1" max="5" value={params.g} onInput={num("g")} /></label>
        <label>Buffer B (km)<input type="number" step="0.1" min="0.1" max="50" value={params.bufferKm} onInput={num("bufferKm")} /></label>
        <button type="submit">Geographic profile</button>
      </form>
      <p class="muted" data-testid="map-summary">
        {geo ? `${geo.total} event(s) you may see; ${geo.points.length} with a place shown.` : "Loading…"} Rossmo's formula, Manhattan distance, f={params.f}, g={params.g}, B={params.bufferKm} km, {params.cells}×{params.cells} grid.
      </p>
      {note && <p role="status">{note}</p>}
      {error && <p role="alert" class="error">{error}</p>}
      <div ref={box} class="leaflet-box" data-testid="map" />
    </div>
  );
}
