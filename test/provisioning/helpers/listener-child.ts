/**
 * A pillar's provisioning side as its own process, on a real config folder:
 *   node --import tsx listener-child.ts CONFIG PORT FLEET_PUB
 * Recovers the folder, loads the config, runs the ProvisioningListener with the real
 * ConfigApplier and the default self-test. Prints `APPLIED {json}` on stdout whenever the
 * running config changes; logs (JSON) go to stderr. $PILLAR_APPLY_PAUSE_AT makes it stop at a
 * named apply step for a SIGKILL.
 */
import { pino } from "pino";
import { LiveConfig } from "../../../src/config/live-config.js";
import { loadConfigFile } from "../../../src/config/load-config.js";
import { setRootLogger } from "../../../src/log/logger.js";
import { ConfigApplier } from "../../../src/provisioning/config-applier.js";
import { recoverConfigDir } from "../../../src/provisioning/config-recovery.js";
import { keyIdOf, readPublicKey, sha256Hex } from "../../../src/provisioning/config-signature.js";
import { ProvisioningListener } from "../../../src/provisioning/provisioning-listener.js";
import { readIfExists } from "../../../src/provisioning/signed-pair-store.js";

const [configPath, port, pubKey] = process.argv.slice(2) as [string, string, string];
setRootLogger(pino({ level: "debug" }, pino.destination(2)));

const recovered = await recoverConfigDir(configPath);
const live = new LiveConfig(await loadConfigFile(configPath), configPath);
const applier = new ConfigApplier({
  configPath,
  current: () => live.get(),
  applyConfig: async (c) => {
    live.set(c);
    process.stdout.write(
      `APPLIED ${JSON.stringify({ id: c.pillar.id, location: c.location, driver: c.hal.driver })}\n`,
    );
  },
  publicKeyPath: pubKey,
  applyTimeoutMs: 5000,
});
const keyId = keyIdOf(await readPublicKey(pubKey));
const listener = new ProvisioningListener({
  port,
  baudRate: 115200,
  applier,
  reopenMs: 200,
  sessionTimeoutMs: 3000,
  identity: async () => {
    const c = live.get();
    const bytes = await readIfExists(configPath);
    return {
      pillarId: c.pillar.id,
      version: "test",
      mode: c.pillar.mode,
      configVersion: c.version,
      configSha256: bytes ? sha256Hex(bytes) : null,
      keyId,
    };
  },
});
await listener.start();
process.stdout.write(`LISTENING ${JSON.stringify({ id: live.get().pillar.id, recovered })}\n`);
process.on("SIGTERM", () => void listener.stop().then(() => process.exit(0)));
