import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { readFile, stat } from "node:fs/promises";

/**
 * Detached config signatures (docs/provisioning.md "Signing"). `FILE.sig` is a text file with
 * one signature per line:
 *
 *     alarm-pillar-sig-v1 ed25519 <keyId> <sha256 of FILE, hex> <Ed25519 signature, base64>
 *
 * The signature is Ed25519 over the exact bytes of FILE. `keyId` is the first 16 hex digits of
 * the SHA-256 of the public key (SPKI DER). Lines starting with `#` and blank lines are ignored.
 * A file may hold several lines; it is valid for FILE when one line names FILE's sha256 and the
 * trusted key, and its signature verifies. (The pillar relies on that while it swaps a config
 * and its signature: for a moment the .sig holds the old and the new line, see signed-pair-store.)
 */

export const SIG_MAGIC = "alarm-pillar-sig-v1";

export class SignatureError extends Error {
  constructor(
    readonly code: "unsigned" | "tampered" | "bad_signature" | "wrong_key" | "malformed" | "no_key",
    message: string,
  ) {
    super(message);
    this.name = "SignatureError";
  }
}

export interface SignatureLine {
  keyId: string;
  sha256: string;
  signature: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Short id of a public key: first 16 hex digits of the SHA-256 of its SPKI DER encoding. */
export function keyIdOf(key: KeyObject): string {
  let id = keyIds.get(key);
  if (!id) {
    const pub = key.type === "private" ? createPublicKey(key) : key;
    id = sha256Hex(pub.export({ type: "spki", format: "der" })).slice(0, 16);
    keyIds.set(key, id);
  }
  return id;
}
const keyIds = new WeakMap<KeyObject, string>();

export async function readPrivateKey(path: string): Promise<KeyObject> {
  const key = createPrivateKey(await readFile(path, "utf8"));
  if (key.asymmetricKeyType !== "ed25519") throw new SignatureError("malformed", `${path}: not an Ed25519 private key`);
  return key;
}

export async function readPublicKey(path: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(path, "utf8");
  } catch (err) {
    throw new SignatureError("no_key", `cannot read the fleet public key ${path}: ${(err as Error).message}`);
  }
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== "ed25519") throw new SignatureError("malformed", `${path}: not an Ed25519 public key`);
  return key;
}

/** True when a private key file can be read by group or others (it should be 0600). */
export async function privateKeyTooOpen(path: string): Promise<boolean> {
  return ((await stat(path)).mode & 0o077) !== 0;
}

/** The signature line for `data` (without line break). */
export function signatureLine(data: Uint8Array, privateKey: KeyObject): string {
  const sig = sign(null, data, privateKey).toString("base64");
  return `${SIG_MAGIC} ed25519 ${keyIdOf(privateKey)} ${sha256Hex(data)} ${sig}`;
}

/** A complete .sig file text for `data`. */
export function signatureFileText(data: Uint8Array, privateKey: KeyObject): string {
  return `${signatureLine(data, privateKey)}\n`;
}

/** Parse a .sig text; throws SignatureError("malformed") naming the bad line. */
export function parseSignatureText(text: string, source = "signature"): SignatureLine[] {
  const out: SignatureLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const parts = line.split(/\s+/);
    if (
      parts.length !== 5 ||
      parts[0] !== SIG_MAGIC ||
      parts[1] !== "ed25519" ||
      !/^[0-9a-f]{16}$/.test(parts[2]!) ||
      !/^[0-9a-f]{64}$/.test(parts[3]!) ||
      !/^[A-Za-z0-9+/]+=*$/.test(parts[4]!)
    ) {
      throw new SignatureError(
        "malformed",
        `${source}:${i + 1}: not a signature line ("${SIG_MAGIC} ed25519 KEYID SHA256 SIGNATURE")`,
      );
    }
    out.push({ keyId: parts[2]!, sha256: parts[3]!, signature: parts[4]! });
  });
  return out;
}

export interface VerifiedSignature {
  keyId: string;
  sha256: string;
}

/**
 * Check that `sigText` holds a valid signature of `data` by `publicKey`. Throws SignatureError
 * with a message an installer can act on (unsigned, changed after signing, other key, forged).
 */
export function verifySignatureText(
  data: Uint8Array,
  sigText: string | undefined,
  publicKey: KeyObject,
  name = "config",
): VerifiedSignature {
  if (sigText === undefined || sigText.trim() === "")
    throw new SignatureError("unsigned", `${name} is not signed (no signature)`);
  const lines = parseSignatureText(sigText, `${name}.sig`);
  if (lines.length === 0) throw new SignatureError("unsigned", `${name} is not signed (empty signature)`);
  const keyId = keyIdOf(publicKey);
  const sha = sha256Hex(data);
  const forThis = lines.filter((l) => l.sha256 === sha);
  if (forThis.length === 0) {
    throw new SignatureError(
      "tampered",
      `${name} was changed after signing: its sha256 is ${sha.slice(0, 16)}…, the signature is for ${lines.map((l) => `${l.sha256.slice(0, 16)}…`).join(", ")}`,
    );
  }
  const byKey = forThis.filter((l) => l.keyId === keyId);
  if (byKey.length === 0) {
    throw new SignatureError(
      "wrong_key",
      `${name} is signed with key ${forThis.map((l) => l.keyId).join(", ")}, but this pillar trusts key ${keyId}`,
    );
  }
  for (const l of byKey) {
    if (verify(null, data, publicKey, Buffer.from(l.signature, "base64"))) return { keyId, sha256: sha };
  }
  throw new SignatureError(
    "bad_signature",
    `${name}: the signature does not verify with key ${keyId} (tampered or forged signature)`,
  );
}

/**
 * Verify the detached signature `path.sig` of the file `path` against the public key in
 * `pubKeyPath`. Used by `pillar config validate FILE --key PUB`.
 */
export async function verifyConfigSignature(path: string, pubKeyPath: string): Promise<VerifiedSignature> {
  const key = await readPublicKey(pubKeyPath);
  const data = await readFile(path);
  let sigText: string;
  try {
    sigText = await readFile(`${path}.sig`, "utf8");
  } catch {
    throw new SignatureError("unsigned", `${path} is not signed: ${path}.sig does not exist`);
  }
  return verifySignatureText(data, sigText, key, path);
}
