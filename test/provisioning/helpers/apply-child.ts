/**
 * One ConfigApplier.apply in its own process, for crash tests:
 *   node --import tsx apply-child.ts CONFIG CANDIDATE FLEET_PUB
 * CANDIDATE.sig is sent as the signature if it exists. With $PILLAR_APPLY_PAUSE_AT it stops at
 * that step (announced on stderr) so the test can SIGKILL it there. Prints `REPORT {json}`.
 */
import { readFile } from "node:fs/promises";
import { pino } from "pino";
import { LiveConfig } from "../../../src/config/live-config.js";
import { loadConfigFile } from "../../../src/config/load-config.js";
import { setRootLogger } from "../../../src/log/logger.js";
import { ConfigApplier } from "../../../src/provisioning/config-applier.js";

const [configPath, candidate, pubKey] = process.argv.slice(2) as [string, string, string];
setRootLogger(pino({ level: "warn" }, pino.destination(2)));
const live = new LiveConfig(await loadConfigFile(configPath), configPath);
const applier = new ConfigApplier({
  configPath,
  current: () => live.get(),
  applyConfig: async (c) => live.set(c),
  publicKeyPath: pubKey,
});
const bytes = await readFile(candidate);
const signature = await readFile(`${candidate}.sig`, "utf8").catch(() => undefined);
const report = await applier.apply({ bytes, signature, source: candidate });
process.stdout.write(`REPORT ${JSON.stringify(report)}\n`);
