import type { TSchema } from "@sinclair/typebox";
import { PillarConfigSchema, type PillarConfig } from "../../config/schema.js";
import { ConfigError } from "../config/config-errors.js";
import { validateConfig } from "../config/validate-config.js";
import { parseCsv, type CsvRecord } from "./csv-parser.js";

/**
 * The fleet inventory: a CSV file with one row per pillar, merged onto a defaults config.
 * Named columns map to config fields; any other column named as a dotted config path
 * (e.g. `heartbeat.intervalS`) sets that field, typed after the schema. An empty cell keeps
 * the default. See docs/provisioning.md "Inventory columns".
 */
export const INVENTORY_COLUMNS: Record<string, { path: string; required?: boolean; help: string }> = {
  id: { path: "pillar.id", required: true, help: "unique pillar id (a-z, 0-9, -), used in every MQTT topic" },
  name: { path: "pillar.name", help: "human name of the site" },
  mode: { path: "pillar.mode", help: "production | development" },
  lat: { path: "location.lat", required: true, help: "latitude, WGS84 decimal degrees" },
  lon: { path: "location.lon", required: true, help: "longitude, WGS84 decimal degrees" },
  address: { path: "location.address", required: true, help: "street address as the dispatcher reads it" },
  district: { path: "location.district", required: true, help: "district / police precinct" },
  broker_url: { path: "broker.url", help: "broker URL, if not the default's" },
  broker_client_id: { path: "broker.clientId", help: "MQTT client id (unique; default pillar-{id})" },
  broker_username: { path: "broker.username", help: "MQTT user name" },
  broker_password: { path: "broker.password", help: "MQTT password (secret)" },
  hal_driver: { path: "hal.driver", help: "sim | gpio | firmata" },
  firmata_port: { path: "hal.firmata.port", help: "serial device of the I/O co-processor" },
  provisioning_port: { path: "provisioning.port", help: "serial port of the provisioning listener" },
};

export interface InventoryProblem {
  line: number;
  column?: string;
  message: string;
}

export interface InventoryRow {
  line: number;
  id: string;
  config: PillarConfig;
}

/** Thrown with every problem of the inventory (all rows), each naming its CSV line and column. */
export class InventoryError extends Error {
  constructor(
    readonly source: string,
    readonly problems: InventoryProblem[],
  ) {
    super(problems.map((p) => formatProblem(source, p)).join("\n"));
    this.name = "InventoryError";
  }
}

export function formatProblem(source: string, p: InventoryProblem): string {
  return `${source}:${p.line}: ${p.column !== undefined ? `column "${p.column}": ` : ""}${p.message}`;
}

/** The schema node at a dotted path, or undefined when the schema has no such field. */
function schemaAt(path: string): TSchema | undefined {
  let node: TSchema | undefined = PillarConfigSchema;
  for (const seg of path.split(".")) {
    const props: Record<string, TSchema> | undefined = (node as { properties?: Record<string, TSchema> } | undefined)
      ?.properties;
    node = props?.[seg];
    if (!node) return undefined;
  }
  return node;
}

function setPath(doc: Record<string, unknown>, path: string, value: unknown): void {
  const segs = path.split(".");
  let cur = doc;
  for (const seg of segs.slice(0, -1)) {
    const next = cur[seg];
    if (next === null || typeof next !== "object" || Array.isArray(next)) cur[seg] = {};
    cur = cur[seg] as Record<string, unknown>;
  }
  cur[segs[segs.length - 1]!] = value;
}

/** A copy of `value` with object keys in schema order (readable, stable output); drops `$schema`. */
export function schemaOrdered(value: unknown, schema: TSchema | undefined = PillarConfigSchema): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const props = (schema as { properties?: Record<string, TSchema> } | undefined)?.properties ?? {};
  const obj = value as Record<string, unknown>;
  const keys = [...Object.keys(props).filter((k) => k in obj), ...Object.keys(obj).filter((k) => !(k in props))];
  return Object.fromEntries(keys.filter((k) => k !== "$schema").map((k) => [k, schemaOrdered(obj[k], props[k])]));
}

/** Turn a cell into the type the schema wants; throws a message on a bad value. */
function cellValue(cell: string, schema: TSchema): unknown {
  const type = (schema as { type?: string }).type;
  if (type === "number" || type === "integer") {
    const v = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/.test(cell) ? Number(cell) : NaN;
    if (!Number.isFinite(v)) throw new Error(`${JSON.stringify(cell)} is not a number`);
    if (type === "integer" && !Number.isInteger(v)) throw new Error(`${cell} is not a whole number`);
    return v;
  }
  if (type === "boolean") {
    if (/^(true|yes|1)$/i.test(cell.trim())) return true;
    if (/^(false|no|0)$/i.test(cell.trim())) return false;
    throw new Error(`${JSON.stringify(cell)} is not true or false`);
  }
  const anyOf = (schema as { anyOf?: { const?: unknown }[] }).anyOf;
  const stringEnum = Array.isArray(anyOf) && anyOf.every((s) => typeof s.const === "string");
  if (type === "string" || typeof (schema as { const?: unknown }).const === "string" || stringEnum) {
    return cell.trim();
  }
  try {
    return JSON.parse(cell) as unknown;
  } catch {
    throw new Error(
      `${JSON.stringify(cell)} is not a JSON value (this field takes ${JSON.stringify(schema.description ?? "a JSON value")})`,
    );
  }
}

function range(value: unknown, lo: number, hi: number): string | undefined {
  return typeof value === "number" && (value < lo || value > hi)
    ? `${value} is not between ${lo} and ${hi}`
    : undefined;
}

const UNKNOWN_COLUMN = `unknown column; use one of ${Object.keys(INVENTORY_COLUMNS).join(", ")} or a dotted config path`;

/**
 * Every problem of one row: its cells (type, range), the merged config (schema and cross-field
 * rules, named by column), and an id or client id already used on an earlier line. Nothing is
 * skipped because something else in the row is wrong.
 */
function checkRow(
  rec: CsvRecord,
  columns: string[],
  paths: (string | undefined)[],
  defaults: object,
  source: string,
  firstLine: { id: Map<string, number>; clientId: Map<string, number> },
): { problems: InventoryProblem[]; config?: PillarConfig } {
  const problems: InventoryProblem[] = [];
  const doc = structuredClone(defaults) as Record<string, unknown>;
  const cells = new Map<string, { column: string; raw: string }>();
  /** JSON pointers of fields whose cell is already reported: the schema's word on them is noise. */
  const reported = new Set<string>();
  rec.fields.forEach((raw, i) => {
    const path = paths[i];
    const column = columns[i]!;
    if (path === undefined) return;
    const ptr = `/${path.replace(/\./g, "/")}`;
    if (raw.trim() === "") {
      if (INVENTORY_COLUMNS[column]?.required) {
        problems.push({ line: rec.line, column, message: "is empty" });
        reported.add(ptr);
      }
      return;
    }
    try {
      setPath(doc, path, cellValue(raw, schemaAt(path)!));
      cells.set(ptr, { column, raw });
    } catch (err) {
      problems.push({ line: rec.line, column, message: (err as Error).message });
      reported.add(ptr);
    }
  });
  const loc = doc.location as { lat?: unknown; lon?: unknown } | undefined;
  for (const [column, value, lo, hi] of [
    ["lat", loc?.lat, -90, 90],
    ["lon", loc?.lon, -180, 180],
  ] as const) {
    const bad = range(value, lo, hi);
    if (bad && cells.has(`/location/${column}`)) {
      problems.push({ line: rec.line, column, message: bad });
      reported.add(`/location/${column}`);
    }
  }
  let config: PillarConfig | undefined;
  try {
    config = validateConfig(doc, `${source}:${rec.line}`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) {
      if ([...reported].some((ptr) => p.path === ptr || p.path.startsWith(`${ptr}/`))) continue;
      const hit = [...cells.entries()].find(([ptr]) => p.path === ptr || p.path.startsWith(`${ptr}/`));
      if (hit)
        problems.push({ line: rec.line, column: hit[1].column, message: `${JSON.stringify(hit[1].raw)} ${p.message}` });
      else problems.push({ line: rec.line, message: `${p.path}: ${p.message} (value from the defaults)` });
    }
  }
  // Duplicates are checked on what the row says, valid or not, so they show in the same run.
  const pillar = doc.pillar as { id?: unknown } | undefined;
  const id = typeof pillar?.id === "string" ? pillar.id : undefined;
  if (id !== undefined) {
    const first = firstLine.id.get(id);
    if (first !== undefined)
      problems.push({ line: rec.line, column: "id", message: `"${id}" is already used on line ${first}` });
    else firstLine.id.set(id, rec.line);
    const broker = doc.broker as { clientId?: unknown } | undefined;
    const clientId = typeof broker?.clientId === "string" ? broker.clientId : `pillar-${id}`;
    const firstClient = firstLine.clientId.get(clientId);
    // a repeated id already repeats the client id made from it: one problem, not two
    if (first !== undefined && clientId === `pillar-${id}`) return { problems, config };
    if (firstClient !== undefined)
      problems.push({
        line: rec.line,
        column: "broker_client_id",
        message: `"${clientId}" is already used on line ${firstClient}`,
      });
    else firstLine.clientId.set(clientId, rec.line);
  }
  return { problems, config };
}

/**
 * Read an inventory: one validated config per row, defaults first, then the row's cells.
 * Collects every problem of every row (by CSV line and column) and throws InventoryError if any.
 */
export function buildInventory(csvText: string, defaults: unknown, source = "inventory.csv"): InventoryRow[] {
  if (defaults === null || typeof defaults !== "object" || Array.isArray(defaults)) {
    throw new InventoryError(source, [{ line: 0, message: "the defaults must be a JSON object" }]);
  }
  const records: CsvRecord[] = parseCsv(csvText, source);
  const header = records[0];
  if (!header) throw new InventoryError(source, [{ line: 1, message: "empty inventory: expected a header line" }]);
  const problems: InventoryProblem[] = [];
  const columns = header.fields.map((name) => name.trim());
  const paths: (string | undefined)[] = columns.map((name, i) => {
    const known = INVENTORY_COLUMNS[name];
    if (columns.indexOf(name) !== i) return undefined;
    if (known) return known.path;
    if (name.includes(".") && schemaAt(name)) return name;
    problems.push({
      line: header.line,
      column: name,
      message: UNKNOWN_COLUMN,
    });
    return undefined;
  });
  columns.forEach((name, i) => {
    if (columns.indexOf(name) !== i)
      problems.push({ line: header.line, column: name, message: "appears twice in the header" });
  });
  for (const [name, def] of Object.entries(INVENTORY_COLUMNS)) {
    if (def.required && !columns.includes(name))
      problems.push({ line: header.line, column: name, message: "required column is missing" });
  }
  // A header that lacks a required column would make every row fail the same way: stop here.
  // An unknown column is reported and its cells ignored, so the rows are still checked.
  if (problems.some((p) => p.message !== UNKNOWN_COLUMN)) throw new InventoryError(source, problems);

  const rows: InventoryRow[] = [];
  const firstLine = { id: new Map<string, number>(), clientId: new Map<string, number>() };
  for (const rec of records.slice(1)) {
    if (rec.fields.length !== columns.length) {
      problems.push({ line: rec.line, message: `has ${rec.fields.length} fields, the header has ${columns.length}` });
      continue;
    }
    const row = checkRow(rec, columns, paths, defaults, source, firstLine);
    problems.push(...row.problems);
    if (row.config && row.problems.length === 0)
      rows.push({ line: rec.line, id: row.config.pillar.id, config: schemaOrdered(row.config) as PillarConfig });
  }
  if (records.length === 1)
    problems.push({ line: header.line, message: "no pillars: the inventory has only a header" });
  if (problems.length) {
    const col = (p: InventoryProblem) => (p.column === undefined ? columns.length : columns.indexOf(p.column));
    problems.sort((a, b) => a.line - b.line || col(a) - col(b));
    throw new InventoryError(source, problems);
  }
  return rows;
}
