import { unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "pino";
import { fsyncDir } from "../fsutil/atomic-write.js";
import { moduleLogger } from "../log/logger.js";
import { sha256Hex } from "./config-signature.js";
import { compactSignature, readIfExists, removeLeftoverTemps, replaceSignedPair } from "./signed-pair-store.js";

/**
 * Run before the pillar loads its config: remove temp files of a killed write, roll back a
 * config that never passed its self-test (FILE.trial names it), drop stale signature lines.
 * The boot-time half of ConfigApplier's protocol (config-applier.ts), which cannot run inside
 * an apply: it must finish before any service reads the config.
 */
export async function recoverConfigDir(
  configPath: string,
  log: Logger = moduleLogger("config-applier"),
): Promise<{ removedTemps: string[]; rolledBack: boolean }> {
  const removedTemps = await removeLeftoverTemps(configPath);
  let rolledBack = false;
  const trial = (await readIfExists(`${configPath}.trial`))?.toString("utf8").trim();
  if (trial !== undefined) {
    const current = await readIfExists(configPath);
    const prev = await readIfExists(`${configPath}.prev`);
    if (current && sha256Hex(current) === trial && prev) {
      const prevSig = (await readIfExists(`${configPath}.prev.sig`))?.toString("utf8");
      await replaceSignedPair(configPath, prev, prevSig, "recover");
      rolledBack = true;
      log.warn({ configPath }, "the last applied config never passed its self-test: rolled back to the previous one");
    }
    await unlink(`${configPath}.trial`);
    await fsyncDir(dirname(configPath));
  }
  await compactSignature(configPath);
  await compactSignature(`${configPath}.prev`);
  // A kill while the very first .prev was being written can leave its .sig alone.
  if (!(await readIfExists(`${configPath}.prev`)) && (await readIfExists(`${configPath}.prev.sig`)))
    await unlink(`${configPath}.prev.sig`);
  if (removedTemps.length) log.info({ removedTemps }, "removed leftover temp files");
  return { removedTemps, rolledBack };
}
