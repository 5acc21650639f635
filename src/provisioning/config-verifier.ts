import type { Logger } from "pino";
import type { PillarConfig } from "../../config/schema.js";
import { ConfigError, parseJsonText, type ConfigProblem } from "../config/config-errors.js";
import { validateConfig } from "../config/validate-config.js";
import { readPublicKey, sha256Hex, SignatureError, verifySignatureText } from "./config-signature.js";
import { resolveFleetPublicKey } from "./fleet-keys.js";

/** A config offered to the pillar: the exact bytes and the detached signature text, if any. */
export interface ConfigCandidate {
  bytes: Uint8Array;
  signature?: string;
  /** Where it came from, for logs: "serial", "mqtt", a file path. */
  source: string;
}

export class ProvisioningError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly problems?: ConfigProblem[],
  ) {
    super(message);
    this.name = "ProvisioningError";
  }
}

export interface VerifiedCandidate {
  config: PillarConfig;
  sha256: string;
  signed: boolean;
  keyId?: string;
}

/**
 * Check a candidate without touching anything: JSON, schema (validateConfig), then the
 * signature policy (required when the running or the new config is in production mode; always
 * checked when present and a fleet key is installed). Throws ProvisioningError. A module of its
 * own because the serial listener verifies before it acknowledges, apart from any apply.
 */
export async function verifyCandidate(
  c: ConfigCandidate,
  o: { running: PillarConfig; publicKeyPath?: string; log: Logger },
): Promise<VerifiedCandidate> {
  const text = Buffer.from(c.bytes).toString("utf8");
  let config: PillarConfig;
  try {
    config = validateConfig(parseJsonText(text, c.source), c.source);
  } catch (err) {
    if (err instanceof ConfigError) throw new ProvisioningError("invalid_config", err.message, err.problems);
    throw err;
  }
  const running = o.running;
  const required = running.pillar.mode === "production" || config.pillar.mode === "production";
  const hasSig = c.signature !== undefined && c.signature.trim() !== "";
  const keyPath = o.publicKeyPath ?? (await resolveFleetPublicKey(running));
  const sha = sha256Hex(c.bytes);
  if (!hasSig) {
    if (required)
      throw new ProvisioningError(
        "unsigned",
        `refused: ${running.pillar.mode === "production" ? "this pillar is" : "the new config is"} in production mode and the config is not signed`,
      );
    return { config, sha256: sha, signed: false };
  }
  if (!keyPath) {
    if (required)
      throw new ProvisioningError(
        "no_key",
        "refused: no fleet public key installed to check the signature (/etc/alarm-pillar/fleet.pub)",
      );
    o.log.warn("config is signed but no fleet public key is installed: signature not checked");
    return { config, sha256: sha, signed: false };
  }
  try {
    const v = verifySignatureText(c.bytes, c.signature, await readPublicKey(keyPath), "config");
    return { config, sha256: sha, signed: true, keyId: v.keyId };
  } catch (err) {
    if (err instanceof SignatureError) throw new ProvisioningError(err.code, `refused: ${err.message}`);
    throw err;
  }
}
