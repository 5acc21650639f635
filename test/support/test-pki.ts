import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFleetCa, issueCertificate, type IssuedFiles } from "../../src/security/pillar-pki.js";

/**
 * A throw-away fleet PKI for a test, made by the same code as `pillar keys ca|cert` (openssl):
 * the CA, a broker certificate for 127.0.0.1, and client certificates by CN on demand.
 */
export class TestPki {
  dir = "";
  ca!: IssuedFiles;
  broker!: IssuedFiles;

  async start(): Promise<this> {
    this.dir = await mkdtemp(join(tmpdir(), "pki-"));
    this.ca = await createFleetCa(join(this.dir, "ca"), "test-fleet-ca", 30);
    this.broker = await this.issue("broker", { usage: "server", altNames: ["IP:127.0.0.1", "DNS:localhost"] });
    return this;
  }

  /** A client (or server) certificate; `dir` picks the folder (default one per name). */
  issue(
    cn: string,
    o: { days?: number; usage?: "client" | "server"; altNames?: string[]; dir?: string } = {},
  ): Promise<IssuedFiles> {
    return issueCertificate({
      caCert: this.ca.certPath,
      caKey: this.ca.keyPath,
      cn,
      outDir: o.dir ?? join(this.dir, cn),
      days: o.days ?? 400,
      usage: o.usage ?? "client",
      altNames: o.altNames,
    });
  }

  async dispose(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
