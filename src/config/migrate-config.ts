import { CONFIG_VERSION } from "../../config/schema.js";
import { ConfigError } from "./config-errors.js";

type Doc = Record<string, unknown>;

/**
 * Migrations from each older `version` to the next one. A config file without `version` is
 * a pre-release one (version 0): its `pillarId` and flat `lat`/`lon` moved into objects.
 */
const MIGRATIONS: Record<number, (doc: Doc) => Doc> = {
  0: (doc) => {
    const { pillarId, lat, lon, address, district, ...rest } = doc;
    const out: Doc = { ...rest, version: 1 };
    if (pillarId !== undefined && out.pillar === undefined) out.pillar = { id: pillarId };
    if (lat !== undefined && out.location === undefined) out.location = { lat, lon, address, district };
    return out;
  },
};

/** Bring a parsed config to CONFIG_VERSION. `from` is the version it had. */
export function migrateConfig(doc: unknown, source: string): { config: unknown; from: number } {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new ConfigError(source, [{ path: "/", message: "must be a JSON object" }]);
  }
  let cur = doc as Doc;
  const from = cur.version === undefined ? 0 : cur.version;
  if (typeof from !== "number" || !Number.isInteger(from)) {
    throw new ConfigError(source, [{ path: "/version", message: "must be an integer" }]);
  }
  if (from > CONFIG_VERSION) {
    throw new ConfigError(source, [
      { path: "/version", message: `${from} is newer than this software understands (${CONFIG_VERSION})` },
    ]);
  }
  for (let v = from; v < CONFIG_VERSION; v++) {
    const step = MIGRATIONS[v];
    if (!step) throw new ConfigError(source, [{ path: "/version", message: `no migration from version ${v}` }]);
    cur = step(cur);
  }
  return { config: cur, from };
}
