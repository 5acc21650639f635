import type { Logger } from "pino";
import type { PillarConfig } from "../../config/schema.js";
import type { Core, Feature } from "../app/feature.js";
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

/** The running pillar as provisioning sees it (PillarApp): its config, and a way to use a new one. */
export interface ConfigTarget {
  current(): PillarConfig;
  /** One at a time; `signal` abandons a timed-out apply before its rollback starts. */
  applyConfig(next: PillarConfig, signal?: AbortSignal): Promise<unknown>;
}

export interface ProvisioningOptions {
  target: ConfigTarget;
  /** The config file the pillar booted from (FILE, FILE.sig, FILE.prev… live beside it). */
  configPath: string;
  /** Serial port for `pillar flash` (`--provision-port`); default: config provisioning.port. */
  port?: string;
  /** A boot partition to import a config from once before the first start (`pillar flash --dir`). */
  bootDir?: string;
  /** Fleet public key path; default: resolveFleetPublicKey. */
  publicKeyPath?: string;
  selfTest?: SelfTest;
  applyTimeoutMs?: number;
  version: string;
  log: Logger;
}

export interface ProvisioningFeature extends Feature {
  readonly applier: ConfigApplier;
  /** The serial listener, once opened (tests). */
  listener(): ProvisioningListener | undefined;
}

/**
 * Provisioning: the ConfigApplier (verify, store, apply, self-test, roll back), the MQTT
 * command `config.apply` on every generation of the core, the serial listener for
 * `pillar flash`, and the boot-partition config imported before the first start.
 *
 * The serial listener outlives rebuilds on purpose (opened once, closed when the pillar stops):
 * applying a config may rebuild every service, and the link that carried it must stay open to
 * report the RESULT.
 */
export function provisioningFeature(o: ProvisioningOptions): ProvisioningFeature {
  const log = moduleLogger("provisioning", o.log);
  const applier = new ConfigApplier({
    configPath: o.configPath,
    current: () => o.target.current(),
    applyConfig: (c, signal) => o.target.applyConfig(c, signal).then(() => undefined),
    selfTest: o.selfTest,
    publicKeyPath: o.publicKeyPath,
    applyTimeoutMs: o.applyTimeoutMs,
    log: moduleLogger("config-applier", o.log),
  });
  let listener: ProvisioningListener | undefined;
  /** The newest generation of the core: a late answer goes through its uplink. */
  let latest: Core | undefined;

  const identity = async () => {
    const c = o.target.current();
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
  };

  return {
    name: "provisioning",
    applier,
    listener: () => listener,
    async open() {
      if (o.bootDir) await importBootConfig(o.bootDir, applier, log);
      const c = o.target.current();
      const port = o.port ?? c.provisioning?.port;
      if (!port) return;
      listener = new ProvisioningListener({
        port,
        baudRate: c.provisioning?.baudRate ?? 115200,
        applier,
        log,
        identity,
      });
      await listener.start();
    },
    attach(core) {
      latest = core;
      const topicsAtRequest = new PillarTopics(core.config.get().pillar.id);
      registerConfigApplyCommand(core.commands, applier, async (result) => {
        // No rebuild: the CommandService that took the command answers itself.
        if (latest === core) return;
        const now = await connected(() => latest, 15_000);
        if (!now) return;
        await now.uplink
          .publish(topicsAtRequest.commandResult(CONFIG_APPLY_COMMAND), JSON.stringify(result), { qos: 1 })
          .catch((err: Error) => log.warn({ err: err.message }, "could not send the config.apply result"));
      });
      return [];
    },
    async close() {
      await listener?.stop();
      listener = undefined;
    },
  };
}

/** The newest core once its uplink is connected (a rebuild may replace it while waiting). */
async function connected(latest: () => Core | undefined, ms: number): Promise<Core | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const core = latest();
    if (core?.uplink.isConnected()) return core;
    if (Date.now() >= until) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A config left on the boot partition by `pillar flash --dir`: checked and applied once, before
 * the services start (so applying is just using it, overlay included).
 */
async function importBootConfig(bootDir: string, applier: ConfigApplier, log: Logger): Promise<void> {
  const boot = await importBootDirConfig(bootDir, applier).catch((err: Error) =>
    log.error({ err: err.message, bootDir }, "could not import the boot partition config"),
  );
  if (boot)
    log[boot.ok ? "info" : "error"](
      { bootDir, ...boot },
      boot.ok ? "config from the boot partition applied" : "config on the boot partition refused",
    );
}
