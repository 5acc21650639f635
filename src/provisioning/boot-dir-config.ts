import { mkdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { fsyncDir } from "../fsutil/atomic-write.js";
import type { ApplyReport, ConfigApplier } from "./config-applier.js";
import { readIfExists, replaceSignedPair } from "./signed-pair-store.js";

/** Where `pillar flash --dir BOOT` puts the config on a mounted boot partition. */
export const BOOT_DIR_SUBDIR = "alarm-pillar";
export const BOOT_DIR_FILE = "config.json";

/**
 * Write a config and its signature into `BOOT/alarm-pillar/config.json(.sig)` on a mounted boot
 * partition (e.g. an SD card in the installer's laptop), crash-safely: a pulled card or a kill
 * leaves the old pair or the new pair. Returns the config's path.
 */
export async function writeConfigToBootDir(
  bootDir: string,
  bytes: Uint8Array,
  signature: string | undefined,
): Promise<string> {
  const dir = join(bootDir, BOOT_DIR_SUBDIR);
  await mkdir(dir, { recursive: true });
  const path = join(dir, BOOT_DIR_FILE);
  await replaceSignedPair(path, bytes, signature, "boot-dir");
  await fsyncDir(bootDir);
  return path;
}

/**
 * Pillar side, on start: if the boot partition holds a config put there by `pillar flash --dir`,
 * apply it through the ConfigApplier (same checks as a serial flash) and rename it to
 * `config.json.applied` or `config.json.refused` so it is used once. Returns the report, or
 * null when there was nothing to import.
 */
export async function importBootDirConfig(bootDir: string, applier: ConfigApplier): Promise<ApplyReport | null> {
  const path = join(bootDir, BOOT_DIR_SUBDIR, BOOT_DIR_FILE);
  const bytes = await readIfExists(path);
  if (!bytes) return null;
  const signature = (await readIfExists(`${path}.sig`))?.toString("utf8");
  const report = await applier.apply({ bytes, signature, source: path });
  const suffix = report.ok ? "applied" : "refused";
  if (signature !== undefined) await rename(`${path}.sig`, `${path}.sig.${suffix}`);
  await rename(path, `${path}.${suffix}`);
  await fsyncDir(join(bootDir, BOOT_DIR_SUBDIR));
  return report;
}
