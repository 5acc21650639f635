import { resolve } from "node:path";
import type { Feature } from "./feature.js";

/** What `GET /pillar` answers: how the CLI's commands find this running pillar's files. */
export interface PillarWhereabouts {
  pid: number;
  pillarId: string;
  version: string;
  /** The config file the pillar runs (absolute). */
  configPath: string;
  /** Its data folder (absolute, the run's `--data-dir` included). */
  dataDir: string;
  controlPort: number;
  sim: boolean;
}

/**
 * `GET /pillar` on the control endpoint: where this pillar's config and data are, so that
 * `pillar selftest`, `pillar clips` and `pillar sim` work without being told (`--config`).
 */
export function whereaboutsFeature(o: { configPath: string }): Feature {
  return {
    name: "whereabouts",
    attach(core) {
      core.control.route(
        "GET",
        "/pillar",
        (): PillarWhereabouts => ({
          pid: process.pid,
          pillarId: core.config.get().pillar.id,
          version: core.version,
          configPath: resolve(o.configPath),
          dataDir: resolve(core.dataDir),
          controlPort: core.control.port,
          sim: core.drivers.io.driver === "sim",
        }),
      );
      return [];
    },
  };
}
