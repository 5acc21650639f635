import { readFile, copyFile, stat } from "node:fs/promises";
import { CONFIG_VERSION, type PillarConfig } from "../../config/schema.js";
import { atomicWriteFile } from "../fsutil/atomic-write.js";
import { CONFIG_BOUNDS, ConfigError, parseJsonText } from "./config-errors.js";
import { migrateConfig } from "./migrate-config.js";
import { validateConfig } from "./validate-config.js";

/** Read a config file's text, refusing one larger than the bound before reading it. */
async function readConfigText(path: string): Promise<string> {
  const { size } = await stat(path);
  if (size > CONFIG_BOUNDS.maxBytes)
    throw new ConfigError(path, [
      { path: "(file)", message: `${size} bytes, more than the limit of ${CONFIG_BOUNDS.maxBytes}` },
    ]);
  return readFile(path, "utf8");
}

/** Read and validate a config file; throws ConfigError naming every bad field. */
export async function loadConfigFile(path: string): Promise<PillarConfig> {
  const text = await readConfigText(path);
  return validateConfig(parseJsonText(text, path), path);
}

/**
 * Rewrite an older config file in the current format. The original is kept beside it as
 * `FILE.v{old}.bak`; the new file is written atomically. Returns the backup path, or null when
 * the file was already current.
 */
export async function migrateConfigFile(path: string): Promise<string | null> {
  const text = await readConfigText(path);
  const doc = parseJsonText(text, path);
  const { config, from } = migrateConfig(doc, path);
  if (from === CONFIG_VERSION) return null;
  validateConfig(config, path);
  const backup = `${path}.v${from}.bak`;
  await copyFile(path, backup);
  await atomicWriteFile(path, `${JSON.stringify(config, null, 2)}\n`);
  return backup;
}
