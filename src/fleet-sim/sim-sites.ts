import { parseCsv } from "../provisioning/csv-parser.js";
import type { SimSite } from "./fleet-simulator.js";

/**
 * The sites of `count` simulated pillars from an inventory CSV (columns id, lat, lon, address,
 * district, as for `fleet build`). With `ownIds` the pillars take the inventory's ids (then
 * `count` may not exceed its rows); otherwise they are `sim-0001`… and stand at the
 * inventory's places in turn, so a fleet larger than the inventory still lies in the city.
 */
export function simSites(csvText: string, source: string, count: number, ownIds: boolean): SimSite[] {
  const [header, ...rows] = parseCsv(csvText, source);
  if (!header || rows.length === 0) throw new Error(`${source}: no pillars in the inventory`);
  const col = (name: string) => {
    const i = header.fields.findIndex((f) => f.trim() === name);
    if (i < 0) throw new Error(`${source}: the inventory has no "${name}" column`);
    return i;
  };
  const [id, lat, lon, address, district] = ["id", "lat", "lon", "address", "district"].map(col) as number[];
  if (ownIds && count > rows.length)
    throw new Error(`${source} has ${rows.length} pillars; --count ${count} needs more (or leave out --own-ids)`);
  const width = Math.max(4, String(count).length);
  const sites: SimSite[] = [];
  for (let n = 0; n < count; n++) {
    const r = rows[n % rows.length]!;
    const f = (i: number) => (r.fields[i] ?? "").trim();
    const location = { lat: Number(f(lat!)), lon: Number(f(lon!)), address: f(address!), district: f(district!) };
    if (!Number.isFinite(location.lat) || !Number.isFinite(location.lon))
      throw new Error(`${source}:${r.line}: lat/lon is not a number`);
    sites.push({ id: ownIds ? f(id!) : `sim-${String(n + 1).padStart(width, "0")}`, location });
  }
  return sites;
}
