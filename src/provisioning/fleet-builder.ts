import type { KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import { chmod, mkdir, readFile, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { parseJsonText } from "../config/config-errors.js";
import { atomicWriteFile, fsyncDir } from "../fsutil/atomic-write.js";
import { natsAuthorization } from "../security/broker-acl.js";
import { issueCertificate } from "../security/pillar-pki.js";
import { keyIdOf, readPrivateKey, sha256Hex, signatureFileText } from "./config-signature.js";
import { buildInventory } from "./fleet-inventory.js";

export const MANIFEST_FILE = "manifest.json";
export const MANIFEST_FORMAT = "alarm-pillar-fleet-manifest-v1";

export interface ManifestEntry {
  id: string;
  /** CSV line of the pillar's row. */
  line: number;
  file: string;
  sha256: string;
  /** The detached signature file, or null when unsigned. */
  signature: string | null;
  /** With `--tls-ca`: the pillar's client certificate (its key beside it, `certs/{id}.key`). */
  cert?: string;
}

export interface FleetManifest {
  format: typeof MANIFEST_FORMAT;
  generatedAt: string;
  inventory: { file: string; sha256: string };
  defaults: { file: string; sha256: string };
  keyId: string | null;
  count: number;
  pillars: ManifestEntry[];
}

export interface FleetBuildOptions {
  inventoryPath: string;
  defaultsPath: string;
  outDir: string;
  /** Sign every config (and the manifest) with this Ed25519 private key. */
  privateKeyPath?: string;
  /** Issue each pillar's TLS client certificate (CN = id) from this fleet CA into `certs/`. */
  tlsCa?: { cert: string; key: string; days?: number };
}

async function dirState(path: string): Promise<"missing" | "empty" | "full" | "file"> {
  try {
    const s = await stat(path);
    if (!s.isDirectory()) return "file";
    return (await readdir(path)).length === 0 ? "empty" : "full";
  } catch {
    return "missing";
  }
}

/** Read an input file; a missing or unreadable one is one line naming it, not a stack trace. */
async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder" : (err as Error).message;
    throw new Error(`cannot read the ${what} ${path}: ${why}`);
  }
}

/**
 * Build one config per inventory row. Everything is checked before anything is written, and the
 * files are written into a staging folder beside `outDir` that is renamed into place at the end:
 * on any error `outDir` is left as it was (missing or empty).
 */
export async function buildFleet(o: FleetBuildOptions): Promise<FleetManifest> {
  const out = resolve(o.outDir);
  const state = await dirState(out);
  if (state === "full" || state === "file")
    throw new Error(`${o.outDir} exists and is not an empty folder: choose a new --out`);
  const csvBytes = await readInput(o.inventoryPath, "inventory");
  const defaultsText = (await readInput(o.defaultsPath, "defaults")).toString("utf8");
  const defaults = parseJsonText(defaultsText, o.defaultsPath);
  const key: KeyObject | undefined = o.privateKeyPath ? await readPrivateKey(o.privateKeyPath) : undefined;
  const rows = buildInventory(csvBytes.toString("utf8"), defaults, basename(o.inventoryPath));

  const staging = join(dirname(out), `.${basename(out)}.staging-${process.pid}-${Date.now()}`);
  await mkdir(staging, { recursive: true });
  try {
    const pillars: ManifestEntry[] = [];
    for (const row of rows) {
      const file = `${row.id}.json`;
      const bytes = Buffer.from(`${JSON.stringify(row.config, null, 2)}\n`, "utf8");
      // Synchronous on purpose: a batch job on the installer's machine, and ten times faster
      // than 20,000 trips through the thread pool.
      writeFileSync(join(staging, file), bytes);
      let signature: string | null = null;
      if (key) {
        signature = `${file}.sig`;
        writeFileSync(join(staging, signature), signatureFileText(bytes, key));
      }
      let cert: string | undefined;
      if (o.tlsCa) {
        const c = await issueCertificate({
          caCert: o.tlsCa.cert,
          caKey: o.tlsCa.key,
          cn: row.id,
          outDir: join(staging, "certs"),
          days: o.tlsCa.days,
        });
        cert = `certs/${basename(c.certPath)}`;
      }
      pillars.push({
        id: row.id,
        line: row.line,
        file,
        sha256: sha256Hex(bytes),
        signature,
        ...(cert ? { cert } : {}),
      });
    }
    const manifest: FleetManifest = {
      format: MANIFEST_FORMAT,
      generatedAt: new Date().toISOString(),
      inventory: { file: basename(o.inventoryPath), sha256: sha256Hex(csvBytes) },
      defaults: { file: basename(o.defaultsPath), sha256: sha256Hex(defaultsText) },
      keyId: key ? keyIdOf(key) : null,
      count: pillars.length,
      pillars,
    };
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(staging, MANIFEST_FILE), manifestBytes);
    if (key) writeFileSync(join(staging, `${MANIFEST_FILE}.sig`), signatureFileText(manifestBytes, key));
    if (o.tlsCa) {
      await chmod(join(staging, "certs"), 0o700); // private keys inside
      // the NATS broker's per-pillar permissions (docs/mqtt-security.md); Mosquitto needs none
      writeFileSync(join(staging, "certs", "nats-authorization.conf"), natsAuthorization(rows.map((r) => r.id)));
    }
    await fsyncDir(staging);
    if (state === "empty") await rmdir(out);
    await mkdir(dirname(out), { recursive: true });
    await rename(staging, out);
    await fsyncDir(dirname(out));
    return manifest;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

export async function readManifest(dir: string): Promise<FleetManifest> {
  const path = join(dir, MANIFEST_FILE);
  const doc = parseJsonText(await readFile(path, "utf8"), path) as FleetManifest;
  if (doc?.format !== MANIFEST_FORMAT || !Array.isArray(doc.pillars))
    throw new Error(`${path}: not a fleet manifest (${MANIFEST_FORMAT})`);
  return doc;
}

/**
 * Sign a built fleet folder (every config named in its manifest, then the manifest), or one
 * config file. A config whose bytes no longer match the manifest is refused: it was edited
 * after the build and must be rebuilt.
 */
export async function signFleet(target: string, privateKeyPath: string): Promise<{ signed: string[]; keyId: string }> {
  const key = await readPrivateKey(privateKeyPath);
  const keyId = keyIdOf(key);
  if (!(await stat(target)).isDirectory()) {
    const bytes = await readFile(target);
    await atomicWriteFile(`${target}.sig`, signatureFileText(bytes, key));
    return { signed: [target], keyId };
  }
  const manifest = await readManifest(target);
  const files = new Map<string, Buffer>();
  const changed: string[] = [];
  for (const p of manifest.pillars) {
    const bytes = await readFile(join(target, p.file));
    if (sha256Hex(bytes) !== p.sha256) changed.push(p.file);
    files.set(p.file, bytes);
  }
  if (changed.length)
    throw new Error(
      `changed since the build (sha256 differs from ${MANIFEST_FILE}), rebuild them: ${changed.join(", ")}`,
    );
  for (const p of manifest.pillars) {
    p.signature = `${p.file}.sig`;
    await atomicWriteFile(join(target, p.signature), signatureFileText(files.get(p.file)!, key));
  }
  manifest.keyId = keyId;
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  await atomicWriteFile(join(target, `${MANIFEST_FILE}.sig`), signatureFileText(manifestBytes, key));
  await atomicWriteFile(join(target, MANIFEST_FILE), manifestBytes);
  return { signed: manifest.pillars.map((p) => p.file), keyId };
}
