import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { PillarConfig } from "../../../config/schema.js";
import { validateConfig } from "../../../src/config/validate-config.js";
import {
  readPrivateKey,
  readPublicKey,
  sha256Hex,
  signatureFileText,
  verifySignatureText,
} from "../../../src/provisioning/config-signature.js";
import { generateFleetKeys, type GeneratedKeys } from "../../../src/provisioning/fleet-keys.js";

export interface PillarDocOptions {
  id: string;
  mode?: "production" | "development";
  lat?: number;
  lon?: number;
  address?: string;
  district?: string;
  dataDir?: string;
  brokerUrl?: string;
  /** A firmata driver on a device that does not exist: valid config, failing self-test. */
  missingFirmataPort?: string;
}

/** A complete pillar config document (sim hardware unless told otherwise). */
export function pillarDoc(o: PillarDocOptions): Record<string, unknown> {
  return {
    version: 1,
    pillar: { id: o.id, name: `Test pillar ${o.id}`, mode: o.mode ?? "production" },
    location: {
      lat: o.lat ?? 43.258712,
      lon: o.lon ?? 76.953681,
      address: o.address ?? "Гоголь көшесі, 1 / улица Гоголя, 1",
      district: o.district ?? "Medeu",
    },
    broker: { url: o.brokerUrl ?? "mqtt://127.0.0.1:1" },
    hal: {
      driver: o.missingFirmataPort ? "firmata" : "sim",
      ...(o.missingFirmataPort ? { firmata: { port: o.missingFirmataPort } } : {}),
      inputs: { button: { pin: 17 }, tamper: { pin: 27 } },
      outputs: { ready: { pin: 5 }, alarm: { pin: 6 }, answered: { pin: 13 }, strobe: { pin: 26 } },
    },
    dataDir: o.dataDir ?? "/tmp/alarm-pillar-test-data",
    control: { port: 0 },
  };
}

/** The file a fleet build would write: the validated config with every default filled in. */
export function configBytes(doc: object): Buffer {
  return Buffer.from(`${JSON.stringify(validateConfig(doc), null, 2)}\n`);
}

/** Write `doc` to `path` and, with a key, its detached signature `path.sig`. */
export async function writeConfig(path: string, doc: object, keys?: GeneratedKeys): Promise<Buffer> {
  const bytes = configBytes(doc);
  await writeFile(path, bytes);
  if (keys) await writeFile(`${path}.sig`, signatureFileText(bytes, await readPrivateKey(keys.privateKeyPath)));
  return bytes;
}

export async function testKeys(dir: string): Promise<GeneratedKeys> {
  return generateFleetKeys(join(dir, "keys"));
}

export interface PairState {
  sha256: string;
  config: PillarConfig;
  /** null when the pair is unsigned. */
  signatureValid: boolean | null;
}

/** Read FILE and FILE.sig and check them: must parse, validate and (if signed) verify. */
export async function readPair(path: string, pubKeyPath: string): Promise<PairState> {
  const bytes = await readFile(path);
  const config = validateConfig(JSON.parse(bytes.toString("utf8")), path);
  const sig = await readFile(`${path}.sig`, "utf8").catch(() => undefined);
  let signatureValid: boolean | null = null;
  if (sig !== undefined) {
    try {
      verifySignatureText(bytes, sig, await readPublicKey(pubKeyPath));
      signatureValid = true;
    } catch {
      signatureValid = false;
    }
  }
  return { sha256: sha256Hex(bytes), config, signatureValid };
}
