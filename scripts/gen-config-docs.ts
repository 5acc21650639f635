/**
 * Writes config/pillar-config.schema.json (the schema as plain JSON Schema 2020-12) and
 * docs/config-reference.md (a table of every field) from config/schema.ts.
 * `npm run config:docs`; a test fails when either is out of date.
 */
import { writeFile, mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { configJsonSchema } from "../config/schema.js";

// biome-ignore lint/suspicious/noExplicitAny: walks an arbitrary JSON Schema document
type Node = Record<string, any>;

function typeOf(s: Node): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf) return s.anyOf.map(typeOf).join(" \\| ");
  if (s.enum) return s.enum.map((e: unknown) => JSON.stringify(e)).join(" \\| ");
  if (s.type === "object" && s.properties) return "object";
  return String(s.type ?? "any");
}

function range(s: Node): string {
  const parts: string[] = [];
  if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) parts.push(`≤ ${s.maximum}`);
  if (s.minLength !== undefined) parts.push(`length ≥ ${s.minLength}`);
  if (s.pattern) parts.push(`pattern \`${String(s.pattern).replaceAll("|", "\\|")}\``);
  return parts.join(", ");
}

export function configReferenceRows(schema: Node, prefix = "", requiredHere: string[] = []): string[] {
  const rows: string[] = [];
  for (const [name, prop] of Object.entries<Node>(schema.properties ?? {})) {
    if (name === "$schema") continue;
    const path = prefix ? `${prefix}.${name}` : name;
    const req = requiredHere.includes(name) && prop.default === undefined ? "yes" : "";
    const def =
      prop.default !== undefined && typeof prop.default !== "object" ? `\`${JSON.stringify(prop.default)}\`` : "";
    const desc = [prop.description ?? "", range(prop)].filter(Boolean).join("; ");
    rows.push(`| \`${path}\` | ${typeOf(prop)} | ${req} | ${def} | ${desc} |`);
    if (prop.type === "object" && prop.properties) rows.push(...configReferenceRows(prop, path, prop.required ?? []));
  }
  return rows;
}

export function configReferenceMarkdown(): string {
  const schema = configJsonSchema() as Node;
  return [
    "# Config reference",
    "",
    "Generated from `config/schema.ts` by `npm run config:docs`; do not edit by hand.",
    "Fields with a default may be left out. `pillar config validate FILE` checks a file.",
    "",
    "| field | type | required | default | notes |",
    "|---|---|---|---|---|",
    ...configReferenceRows(schema, "", schema.required ?? []),
    "",
  ].join("\n");
}

export function schemaJsonText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL("../", import.meta.url));
  await writeFile(`${root}config/pillar-config.schema.json`, schemaJsonText());
  await mkdir(`${root}docs`, { recursive: true });
  await writeFile(`${root}docs/config-reference.md`, configReferenceMarkdown());
  console.log("wrote config/pillar-config.schema.json and docs/config-reference.md");
}
