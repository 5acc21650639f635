import { generateKeyPairSync } from "node:crypto";
import { access, chmod, mkdir, open } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { PillarConfig } from "../../config/schema.js";
import { fsyncDir } from "../fsutil/atomic-write.js";
import { keyIdOf } from "./config-signature.js";

/** Where a production image installs the fleet public key. */
export const SYSTEM_FLEET_PUBKEY = "/etc/alarm-pillar/fleet.pub";
/** The development key shipped in the repository (config/keys/fleet.pub). */
export const DEV_FLEET_PUBKEY = resolve(dirname(fileURLToPath(import.meta.url)), "../../config/keys/fleet.pub");

export interface GeneratedKeys {
  privateKeyPath: string;
  publicKeyPath: string;
  keyId: string;
}

async function writeNew(path: string, data: string, mode: number): Promise<void> {
  const fh = await open(path, "wx", mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await chmod(path, mode); // the umask may not widen it, but be explicit
}

/**
 * Make an Ed25519 key pair: `DIR/NAME.key` (PKCS#8 PEM, mode 0600) and `DIR/NAME.pub` (SPKI PEM).
 * Refuses to overwrite an existing key (a lost fleet key means re-keying every pillar).
 */
export async function generateFleetKeys(outDir: string, name = "fleet"): Promise<GeneratedKeys> {
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const privateKeyPath = join(outDir, `${name}.key`);
  const publicKeyPath = join(outDir, `${name}.pub`);
  for (const p of [privateKeyPath, publicKeyPath]) {
    const exists = await access(p).then(
      () => true,
      () => false,
    );
    if (exists) throw new Error(`${p} already exists: refusing to overwrite a key (move it away first)`);
  }
  await writeNew(privateKeyPath, privateKey.export({ type: "pkcs8", format: "pem" }) as string, 0o600);
  await writeNew(publicKeyPath, publicKey.export({ type: "spki", format: "pem" }) as string, 0o644);
  await fsyncDir(outDir);
  return { privateKeyPath, publicKeyPath, keyId: keyIdOf(publicKey) };
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/**
 * The fleet public key this pillar trusts: an explicit path (e.g. `--fleet-key`), then
 * `provisioning.publicKey` of the running config, then $PILLAR_FLEET_PUBKEY, then
 * /etc/alarm-pillar/fleet.pub, then (development mode only) the repository's key config/keys/fleet.pub.
 * A named path is returned even when missing (verification then fails with a clear error);
 * returns undefined when nothing is named and neither default file exists.
 */
export async function resolveFleetPublicKey(
  config: PillarConfig | undefined,
  explicit?: string,
): Promise<string | undefined> {
  // A path someone named is used as is: if it is missing, verifying says so instead of
  // silently trusting another key.
  const named = explicit ?? config?.provisioning?.publicKey ?? process.env.PILLAR_FLEET_PUBKEY;
  if (named) return named;
  if (await exists(SYSTEM_FLEET_PUBKEY)) return SYSTEM_FLEET_PUBKEY;
  // The development key's private half is in the repository: a production pillar never trusts it.
  if (config?.pillar.mode !== "production" && (await exists(DEV_FLEET_PUBKEY))) return DEV_FLEET_PUBKEY;
  return undefined;
}
