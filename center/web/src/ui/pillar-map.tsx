import L from "leaflet";
import { useEffect, useRef } from "preact/hooks";
import type { PillarState } from "../model.js";
import type { Ctx } from "./context.js";

interface Shown {
  marker: L.Marker;
  key: string;
}

/** The marker's icon: a dot coloured by state; the pillar id as text (never HTML). */
function icon(id: string, state: PillarState, selected: boolean, label: string): L.DivIcon {
  const el = document.createElement("span");
  el.className = "dot";
  el.dataset.pillar = id;
  el.dataset.state = state;
  el.title = `${id}: ${label}`;
  return L.divIcon({
    className: `pillar-marker st-${state}${selected ? " selected" : ""}`,
    html: el,
    iconSize: [16, 16],
  });
}

/**
 * Every pillar on a Leaflet map, coloured by state (online, offline, alarm, fault). Tiles come
 * from the console's config; without a tile URL the markers stand on a plain background (nothing
 * is fetched). Clicking a marker opens the pillar; "On the map" on a card centres its pillar.
 */
export function PillarMap({ ctx }: { ctx: Ctx }) {
  const div = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const shown = useRef(new Map<string, Shown>());
  const { config, store, selected } = ctx;
  useEffect(() => {
    const m = L.map(div.current!, {
      center: [config.mapCenter.lat, config.mapCenter.lon],
      zoom: config.mapZoom,
      attributionControl: !!config.tileAttribution,
    });
    if (config.tileUrl) {
      const layer = L.tileLayer(config.tileUrl, { maxZoom: 19 });
      // plain text: Leaflet would put a string attribution into innerHTML
      if (config.tileAttribution)
        m.attributionControl.setPrefix(false).addAttribution(escapeText(config.tileAttribution));
      layer.addTo(m);
    }
    map.current = m;
    // the container gets its final size after the first layout (and on every window resize)
    const fit = () => m.invalidateSize();
    const t = setTimeout(fit, 0);
    addEventListener("resize", fit);
    return () => (clearTimeout(t), removeEventListener("resize", fit), m.remove());
  }, []);
  useEffect(() => {
    const m = map.current;
    if (!m) return;
    const seen = new Set<string>();
    for (const p of store.pillars.values()) {
      if (!p.location) continue;
      seen.add(p.id);
      const state = store.stateOf(p);
      const isSel = selected === p.id;
      const key = `${state}|${isSel}|${p.location.lat},${p.location.lon}|${ctx.lang}`;
      const had = shown.current.get(p.id);
      if (had?.key === key) continue;
      const ic = icon(p.id, state, isSel, ctx.t(`st_${state}`));
      if (had) {
        had.marker
          .setLatLng([p.location.lat, p.location.lon])
          .setIcon(ic)
          .setZIndexOffset(isSel ? 1000 : 0);
        had.key = key;
      } else {
        const marker = L.marker([p.location.lat, p.location.lon], { icon: ic, keyboard: true }).addTo(m);
        marker.on("click", () => ctx.select(p.id));
        shown.current.set(p.id, { marker, key });
      }
    }
    for (const [id, s] of shown.current)
      if (!seen.has(id)) {
        s.marker.remove();
        shown.current.delete(id);
      }
  });
  useEffect(() => {
    const loc = selected ? store.pillars.get(selected)?.location : undefined;
    if (loc && map.current)
      map.current.setView([loc.lat, loc.lon], Math.max(map.current.getZoom(), 14), { animate: false });
  }, [selected]);
  return <div class="map" ref={div} />;
}

/** Text made safe for Leaflet's attribution (which it treats as HTML). */
function escapeText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
