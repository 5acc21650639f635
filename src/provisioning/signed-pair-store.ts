import { writeSync } from "node:fs";
import { open, readFile, readdir, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fsyncDir } from "../fsutil/atomic-write.js";
import { parseSignatureText, sha256Hex } from "./config-signature.js";

/**
 * A config file and its detached signature (`FILE.sig`), replaced so that a SIGKILL or power
 * cut at any instant leaves a matching pair on disk: either the old config with a signature
 * valid for it, or the new config with a signature valid for it.
 *
 * Each file is written to a temp file beside it, fsync'd, read back and checked, and only then
 * renamed into place (then the folder is fsync'd). The two renames are ordered so that every
 * state in between is consistent:
 *   A. FILE.sig := old signature lines + new signature lines   (still valid for the old FILE)
 *   B. FILE     := new config                                   (valid: the new line is there)
 *   C. FILE.sig := new signature lines only
 * Leftover temp files (`.FILE.<pid>.<time>.tmp`) are never read and are removed by
 * `removeLeftoverTemps` when the pillar starts.
 */

/**
 * Test hook: when $PILLAR_APPLY_PAUSE_AT names this point, announce it on stderr and stop
 * here for good, so a test can SIGKILL the process at exactly this step.
 */
export async function pausePoint(name: string): Promise<void> {
  if (process.env.PILLAR_APPLY_PAUSE_AT !== name) return;
  writeSync(2, `PILLAR_APPLY_PAUSED ${name}\n`);
  await new Promise<never>(() => {
    setInterval(() => undefined, 60_000); // keep the event loop alive until killed
  });
}

export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Write `data` to a temp file beside `path`, fsync, read back, compare, rename, fsync the folder. */
export async function writeVerified(path: string, data: Uint8Array, point: string, mode = 0o644): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fh = await open(tmp, "w", mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const back = await readFile(tmp);
    if (sha256Hex(back) !== sha256Hex(data))
      throw new Error(`${tmp}: read back differs from what was written (storage fault)`);
    await pausePoint(`${point}-temp-written`);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dir);
}

/** Signature lines of a .sig text, deduplicated, as text. */
function joinSigLines(...texts: (string | undefined)[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const t of texts) {
    for (const line of (t ?? "").split(/\r?\n/)) {
      const l = line.trim();
      if (l && !l.startsWith("#") && !seen.has(l)) {
        seen.add(l);
        out.push(l);
      }
    }
  }
  return out.length ? `${out.join("\n")}\n` : "";
}

/**
 * Replace `path` (and `path.sig`) with `data` (and `sig`, or no signature). `point` prefixes
 * the names of the pause points (e.g. "config" → "config:sig-merged").
 */
export async function replaceSignedPair(
  path: string,
  data: Uint8Array,
  sig: string | undefined,
  point: string,
): Promise<void> {
  const sigPath = `${path}.sig`;
  if (sig) {
    const oldSig = (await readIfExists(sigPath))?.toString("utf8");
    await writeVerified(sigPath, Buffer.from(joinSigLines(oldSig, sig)), `${point}:sig`);
    await pausePoint(`${point}:sig-merged`);
  }
  await writeVerified(path, data, `${point}:config`);
  await pausePoint(`${point}:config-renamed`);
  if (sig) {
    await writeVerified(sigPath, Buffer.from(joinSigLines(sig)), `${point}:sig-final`);
  } else {
    await unlink(sigPath).catch(() => undefined);
    await fsyncDir(dirname(path));
  }
  await pausePoint(`${point}:sig-final`);
}

/** Remove temp files a killed write left beside `path` (its own, its .sig, .prev, .trial). */
export async function removeLeftoverTemps(path: string): Promise<string[]> {
  const dir = dirname(path);
  const base = basename(path).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`^\\.${base}(\\.sig|\\.prev|\\.prev\\.sig|\\.trial)?\\.\\d+\\.\\d+\\.tmp$`);
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    if (!re.test(name)) continue;
    await unlink(join(dir, name)).catch(() => undefined);
    removed.push(name);
  }
  if (removed.length) await fsyncDir(dir);
  return removed;
}

/** Drop signature lines that are not for the current bytes of `path` (left by a killed step C). */
export async function compactSignature(path: string): Promise<boolean> {
  const data = await readIfExists(path);
  const sigText = (await readIfExists(`${path}.sig`))?.toString("utf8");
  if (!data || !sigText) return false;
  let lines: ReturnType<typeof parseSignatureText>;
  try {
    lines = parseSignatureText(sigText);
  } catch {
    return false;
  }
  const sha = sha256Hex(data);
  const keep = lines.filter((l) => l.sha256 === sha);
  if (keep.length === 0 || keep.length === lines.length) return false;
  const text = `${sigText
    .split(/\r?\n/)
    .filter((l) => l.trim() && l.includes(` ${sha} `))
    .join("\n")}\n`;
  await writeVerified(`${path}.sig`, Buffer.from(text), "recover:sig");
  return true;
}
