import { resolve } from "node:path";
import type { Logger } from "pino";
import type { PillarConfig } from "../../config/schema.js";
import { moduleLogger } from "../log/logger.js";
import { DEFAULT_BOOT_DIR, provisioningFeature } from "../provisioning/provisioning-feature.js";
import { selftestFeature } from "../selftest/selftest-feature.js";
import { watchdogFeature } from "../watchdog/watchdog-feature.js";
import { createDrivers } from "./drivers.js";
import type { Core, Feature } from "./feature.js";
import { type ConfigOverlay, PillarApp } from "./pillar-app.js";
import { whereaboutsFeature } from "./whereabouts-feature.js";

export interface ComposeOptions {
  config: PillarConfig;
  /** The file the config came from: provisioning stores flashed configs there. */
  configPath: string;
  /** The shipped example config: never overwritten by a flash, so provisioning stays off. */
  exampleConfigPath?: string;
  /** What the run's flags say about this process, laid over every config the pillar takes. */
  overlay?: ConfigOverlay;
  provisionPort?: string;
  /** Lock the data folder (one pillar per folder); `what` is what the refused process is told runs. */
  lockDataDir?: { what: string };
  version: string;
  log: Logger;
}

/**
 * The composition root of `pillar run`: the drivers come from `createDrivers` (the only place
 * that picks them), the core is built by `build-core.ts`, and these are the features, attached
 * to every generation of the core in this order.
 */
export function composePillar(o: ComposeOptions): PillarApp {
  const features: Feature[] = [];
  const app = new PillarApp({
    config: o.config,
    version: o.version,
    log: o.log,
    overlay: o.overlay,
    drivers: createDrivers,
    features,
    lockDataDir: o.lockDataDir,
  });
  features.push(
    // loaded lazily and guarded: without the WebRTC native module the pillar runs without calls
    lazyFeature("call", o.log, loadCallAndRecording, (core) => core.config.get().call.enabled),
  );
  if (o.exampleConfigPath && resolve(o.configPath) === resolve(o.exampleConfigPath)) {
    moduleLogger("provisioning", o.log).info(
      "provisioning off: the pillar runs the shipped example config (pass --config FILE to flash it)",
    );
  } else {
    features.push(
      provisioningFeature({
        target: { current: () => app.config, applyConfig: (c, signal) => app.applyConfig(c, signal) },
        configPath: o.configPath,
        port: o.provisionPort,
        bootDir: process.env.PILLAR_BOOT_DIR ?? DEFAULT_BOOT_DIR,
        version: o.version,
        log: o.log,
      }),
    );
  }
  features.push(selftestFeature({ configPath: o.configPath }));
  features.push(whereaboutsFeature({ configPath: o.configPath }));
  // last: "ready" for systemd means every other service started
  features.push(watchdogFeature({ env: process.env, log: o.log }));
  return app;
}

/**
 * The call, and recording on top of it when `record.mode` is not off: recording wraps the
 * call's audio devices (shared microphone, tapped speaker) and attaches right after it.
 */
async function loadCallAndRecording(): Promise<Feature> {
  const { callFeature } = await import("../call/call-feature.js");
  const { recordingFeature } = await import("../recording/recording-feature.js");
  const plain = callFeature();
  const rec = recordingFeature();
  const recorded = callFeature({ audio: rec.audio, onBuilt: rec.onCall });
  return {
    name: "call",
    async attach(core) {
      if (core.config.get().record.mode === "off") return plain.attach(core);
      return [...(await recorded.attach(core)), ...(await rec.feature.attach(core))];
    },
  };
}

/**
 * A feature whose module is loaded on its first attach. If it cannot load (a native module
 * missing on this machine) the pillar runs without it — the button, LEDs and events do not
 * depend on it — and says so once in its log.
 */
export function lazyFeature(
  name: string,
  log: Logger,
  load: () => Promise<Feature>,
  enabled: (core: Core) => boolean = () => true,
): Feature {
  let loaded: Promise<Feature | undefined> | undefined;
  return {
    name,
    async attach(core) {
      if (!enabled(core)) return [];
      loaded ??= load().catch((err: Error) => {
        moduleLogger(name, log).error({ err: err.message }, `${name} feature unavailable: running without it`);
        return undefined;
      });
      const feature = await loaded;
      return feature ? feature.attach(core) : [];
    },
  };
}
