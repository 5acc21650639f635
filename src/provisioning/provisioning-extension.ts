import { resolve } from "node:path";
import type { PillarApp } from "../app/pillar-app.js";
import { PROJECT_ROOT } from "../cli/version.js";
import { moduleLogger } from "../log/logger.js";
import { PillarTopics } from "../uplink/topics.js";
import { importBootDirConfig } from "./boot-dir-config.js";
import { CONFIG_APPLY_COMMAND, registerConfigApplyCommand } from "./config-apply-command.js";
import { ConfigApplier } from "./config-applier.js";
import { keyIdOf, readPublicKey, sha256Hex } from "./config-signature.js";
import type { SelfTest } from "./config-self-test.js";
import { resolveFleetPublicKey } from "./fleet-keys.js";
import { ProvisioningListener } from "./provisioning-listener.js";
import { readIfExists } from "./signed-pair-store.js";

/** Where `pillar run` looks for a config written by `pillar flash --dir` ($PILLAR_BOOT_DIR overrides). */
export const DEFAULT_BOOT_DIR = "/boot/firmware";

export interface ProvisioningOptions {
  /** The config file the pillar booted from (FILE, FILE.sig, FILE.prev… live beside it). */
  configPath: string;
  /** Serial port for `pillar flash` (`--provision-port`); default: config provisioning.port. */
  port?: string;
  /** Fleet public key path; default: resolveFleetPublicKey. */
  publicKeyPath?: string;
  selfTest?: SelfTest;
  version: string;
}

export interface ProvisioningHandle {
  applier: ConfigApplier;
  listener: ProvisioningListener | undefined;
  /** Stop the serial listener (the app's stop() leaves it running across config restarts). */
  stop(): Promise<void>;
}

async function waitConnected(app: PillarApp, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!app.uplink.isConnected() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  return app.uplink.isConnected();
}

/**
 * Wire provisioning into a pillar: the ConfigApplier (apply = app.applyConfig), the MQTT command
 * `config.apply`, and the serial provisioning listener. Call before `app.start()`.
 *
 * The listener lives outside the app's services on purpose: applying a config may restart every
 * service, and the link that carried the config must stay open to report the RESULT.
 */
export function attachProvisioning(app: PillarApp, o: ProvisioningOptions): ProvisioningHandle {
  const log = moduleLogger("provisioning", app.log);
  const applier = new ConfigApplier({
    configPath: o.configPath,
    current: () => app.live.get(),
    applyConfig: async (c) => {
      await app.applyConfig(c);
    },
    selfTest: o.selfTest,
    publicKeyPath: o.publicKeyPath,
    log: moduleLogger("config-applier", app.log),
  });
  const port = o.port ?? app.config.provisioning?.port;
  const listener = port
    ? new ProvisioningListener({
        port,
        baudRate: app.config.provisioning?.baudRate ?? 115200,
        applier,
        log,
        identity: async () => {
          const c = app.live.get();
          const bytes = await readIfExists(o.configPath);
          const keyPath = o.publicKeyPath ?? (await resolveFleetPublicKey(c));
          const keyId = keyPath ? await readPublicKey(keyPath).then(keyIdOf, () => null) : null;
          return {
            pillarId: c.pillar.id,
            version: o.version,
            mode: c.pillar.mode,
            configVersion: c.version,
            configSha256: bytes ? sha256Hex(bytes) : null,
            keyId,
          };
        },
      })
    : undefined;
  let listenerStarted = false;
  app.extend((a) => {
    const commands = a.commands;
    const topicsAtRequest = new PillarTopics(a.config.pillar.id);
    registerConfigApplyCommand(a.commands, applier, async (result) => {
      if (a.commands === commands) return; // no rebuild: the CommandService answers itself
      if (await waitConnected(a, 15_000)) {
        await a.uplink
          .publish(topicsAtRequest.commandResult(CONFIG_APPLY_COMMAND), JSON.stringify(result), { qos: 1 })
          .catch((err: Error) => log.warn({ err: err.message }, "could not send the config.apply result"));
      }
    });
    return [
      {
        start: async () => {
          if (listener && !listenerStarted) {
            listenerStarted = true;
            await listener.start();
          }
        },
        stop: async () => undefined,
      },
    ];
  });
  return {
    applier,
    listener,
    stop: async () => {
      listenerStarted = false;
      await listener?.stop();
    },
  };
}

/**
 * `pillar run` hook (src/cli/commands/run-extensions.ts): attach provisioning with
 * `--provision-port` or `provisioning.port`. Skipped when the pillar runs the shipped example
 * config, which a flash must not overwrite.
 */
export async function provisionRun(
  app: PillarApp,
  ctx: { configPath: string; provisionPort?: string; version: string },
): Promise<ProvisioningHandle | undefined> {
  const log = moduleLogger("provisioning", app.log);
  if (resolve(ctx.configPath) === resolve(PROJECT_ROOT, "config/examples/sim.json")) {
    log.info("provisioning off: the pillar runs the shipped example config (pass --config FILE to flash it)");
    return undefined;
  }
  // The config folder was repaired (recoverConfigDir) before the config was read: see run.ts.
  // A config left on the boot partition by `pillar flash --dir`: checked and applied once,
  // before the services start (so applying is just using it).
  const bootDir = process.env.PILLAR_BOOT_DIR ?? DEFAULT_BOOT_DIR;
  const boot = await importBootDirConfig(
    bootDir,
    new ConfigApplier({
      configPath: ctx.configPath,
      current: () => app.live.get(),
      applyConfig: async (c) => app.live.set(c),
      log: moduleLogger("config-applier", app.log),
    }),
  ).catch((err: Error) => log.error({ err: err.message, bootDir }, "could not import the boot partition config"));
  if (boot)
    log[boot.ok ? "info" : "error"](
      { bootDir, ...boot },
      boot.ok ? "config from the boot partition applied" : "config on the boot partition refused",
    );
  return attachProvisioning(app, { configPath: ctx.configPath, port: ctx.provisionPort, version: ctx.version });
}
