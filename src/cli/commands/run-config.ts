import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type PillarConfig, PillarConfigSchema } from "../../../config/schema.js";
import type { ConfigOverlay } from "../../app/pillar-app.js";
import { parseJsonText } from "../../config/config-errors.js";
import { validateConfig } from "../../config/validate-config.js";
import { moduleLogger } from "../../log/logger.js";
import { type parseCliArgs, portArg } from "../args.js";
import { PROJECT_ROOT } from "../version.js";

/**
 * The config a `pillar run` (or `pillar selftest`) process runs: the file, its flags laid over
 * it. Apart from run.ts so that a command needing only this does not load the whole pillar.
 */
export const DEFAULT_CONFIG = process.env.PILLAR_CONFIG ?? "/etc/alarm-pillar/config.json";
export const SIM_CONFIG = join(PROJECT_ROOT, "config/examples/sim.json");

/** No config file where one is looked for: one line, which file and the flag to pass. */
export class NoConfig extends Error {}

export const runOptions = {
  config: { type: "string" },
  sim: { type: "boolean" },
  broker: { type: "string" },
  "data-dir": { type: "string" },
  id: { type: "string" },
  "control-port": { type: "string" },
  "embedded-port": { type: "string" },
  "console-port": { type: "string" },
  "provision-port": { type: "string" },
} as const;

export type RunFlags = ReturnType<typeof parseCliArgs<typeof runOptions>>["values"];

/**
 * The flags that describe this process rather than the pillar: `--sim`, `--broker` (or the
 * embedded broker of the demo), `--data-dir`, `--control-port`. They are laid over every config
 * the pillar takes — the file at start, the boot partition's, a serial flash, MQTT
 * `config.apply` — so a flash never moves the control endpoint or the data folder of a running
 * process. Identity (`pillar.id`, location…) always comes from the config; `--id` only names
 * the pillar of the file read at start.
 */
export function runOverlay(v: RunFlags, brokerUrl?: string): ConfigOverlay {
  const url = brokerUrl ?? v.broker;
  const dataDir = v["data-dir"];
  const controlPort = portArg(v["control-port"], "--control-port");
  return (c) => ({
    ...c,
    ...(v.sim ? { hal: { ...c.hal, driver: "sim" as const } } : {}),
    ...(url ? { broker: { ...c.broker, url } } : {}),
    ...(dataDir ? { dataDir } : {}),
    ...(controlPort !== undefined ? { control: { ...c.control, port: controlPort } } : {}),
  });
}

/** The config file a run reads: `--config`, else (with `--sim`) the shipped sim config, else the default. */
function configPathOf(v: RunFlags): string {
  const path = v.config ?? (v.sim ? SIM_CONFIG : DEFAULT_CONFIG);
  if (!existsSync(path))
    throw new NoConfig(`no config file ${path}: pass --config FILE${v.config ? "" : " (or --sim for the demo)"}`);
  return path;
}

/**
 * The data folder a run will use, read before anything is repaired or opened: its lock comes
 * first, so a second process never repairs (rolls back) the config folder of a running pillar.
 */
export async function runDataDir(v: RunFlags): Promise<string> {
  if (v["data-dir"]) return v["data-dir"];
  const path = configPathOf(v);
  const doc = parseJsonText(await readFile(path, "utf8"), path) as { dataDir?: unknown };
  return typeof doc.dataDir === "string" && doc.dataDir ? doc.dataDir : PillarConfigSchema.properties.dataDir.default;
}

/** Load the config file, name it with `--id`, check it, and lay the run's overlay over it. */
export async function resolveRunConfig(
  v: RunFlags,
  brokerUrl?: string,
): Promise<{ config: PillarConfig; path: string; overlay: ConfigOverlay }> {
  const path = configPathOf(v);
  // Repair the config folder first (a crash mid-apply, an unconfirmed config): the file read
  // below is then always a whole, confirmed config, and the flags apply on top of it.
  if (resolve(path) !== resolve(SIM_CONFIG)) {
    const { recoverConfigDir } = await import("../../provisioning/config-recovery.js");
    await recoverConfigDir(path, moduleLogger("config-applier"));
  }
  const doc = parseJsonText(await readFile(path, "utf8"), path) as { [k: string]: unknown; pillar?: object };
  if (v.id) doc.pillar = { ...doc.pillar, id: v.id };
  const overlay = runOverlay(v, brokerUrl);
  // checked as the pillar will run it, overlay included (an invalid port flag is reported here)
  const config = validateConfig(overlay(validateConfig(doc, path)), `${path} (with command-line flags)`);
  return { config, path, overlay };
}
