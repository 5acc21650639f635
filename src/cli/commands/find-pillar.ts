import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { PillarConfigSchema } from "../../../config/schema.js";
import type { PillarWhereabouts } from "../../app/whereabouts-feature.js";
import { loadConfigFile } from "../../config/load-config.js";
import { DEFAULT_CONFIG, NoConfig, SIM_CONFIG } from "./run-config.js";

/** The control port of a config that does not set one (the schema's default). */
export const DEFAULT_CONTROL_PORT: number = PillarConfigSchema.properties.control.properties.port.default;

/** What a command learned: the running pillar (when one answered) and the config file to use. */
export interface Located {
  /** The pillar answering on `port`, when it runs this config (or no config was named). */
  running?: PillarWhereabouts;
  port: number;
  configPath: string;
}

/** Asks the control endpoint on `port` where its pillar's files are; undefined when none answers. */
export async function askPillar(port: number): Promise<PillarWhereabouts | undefined> {
  if (port === 0) return undefined;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/pillar`, { signal: AbortSignal.timeout(1500) });
    if (!res.ok) return undefined;
    const w = (await res.json()) as Partial<PillarWhereabouts>;
    if (typeof w.configPath !== "string" || typeof w.dataDir !== "string" || !Number.isInteger(w.pid)) return undefined;
    return w as PillarWhereabouts;
  } catch {
    return undefined;
  }
}

/**
 * Finds the pillar a command is about. With `--config`: that file, and the pillar on its control
 * port (or `--control-port`) when that pillar runs it. Without: the pillar on `--control-port` (or
 * the default control port) says which config and data folder it runs; only when none answers
 * does the default config path apply (`--sim`: the shipped sim config). A config file that is
 * not there is one line naming it and the flag to pass.
 */
export async function locatePillar(o: { config?: string; controlPort?: number; sim?: boolean }): Promise<Located> {
  if (o.config) {
    if (!existsSync(o.config))
      throw new NoConfig(`no config file ${o.config}: pass --config FILE with the pillar's config`);
    // a config the pillar is mid-way applying may not load yet: its run repairs it first
    const port =
      o.controlPort ??
      (await loadConfigFile(o.config).then(
        (c) => c.control.port,
        () => DEFAULT_CONTROL_PORT,
      ));
    const w = await askPillar(port);
    const same = w && w.configPath === resolve(o.config);
    return { ...(same ? { running: w } : {}), port, configPath: o.config };
  }
  const port = o.controlPort ?? DEFAULT_CONTROL_PORT;
  const w = await askPillar(port);
  if (w) return { running: w, port, configPath: w.configPath };
  const configPath = o.sim ? SIM_CONFIG : DEFAULT_CONFIG;
  if (!existsSync(configPath))
    throw new NoConfig(
      `no pillar answers on 127.0.0.1:${port} and there is no config file ${configPath}: ` +
        "pass --config FILE, or --control-port N of the running pillar",
    );
  return { port, configPath };
}
