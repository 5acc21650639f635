import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFleet } from "../../src/provisioning/fleet-builder.js";
import { createFleetCa } from "../../src/security/pillar-pki.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [join(ROOT, "bin/pillar.mjs"), ...args], { cwd: ROOT });
    let out = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", (d: Buffer) => (out += d.toString()));
    c.once("exit", (code) => resolve({ code, out }));
  });
}

describe("pillar certificates from the fleet CA (openssl)", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pki-cli-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("`pillar keys ca` and `pillar keys cert`: CN = pillar id, signed by the CA, key 0600 and never printed", async () => {
    const ca = await cli(["keys", "ca", "--out", join(dir, "ca")]);
    expect(ca.code).toBe(0);
    const caCert = new X509Certificate(await readFile(join(dir, "ca", "fleet-ca.crt")));
    expect(caCert.ca).toBe(true);
    const r = await cli([
      "keys",
      "cert",
      "--ca",
      join(dir, "ca", "fleet-ca.crt"),
      "--ca-key",
      join(dir, "ca", "fleet-ca.key"),
      "--id",
      "tas-yun-0014",
      "--out",
      join(dir, "pillar"),
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/CN=tas-yun-0014, valid until 20\d\d-/);
    expect(r.out).not.toMatch(/PRIVATE KEY/);
    const cert = new X509Certificate(await readFile(join(dir, "pillar", "tas-yun-0014.crt")));
    expect(cert.subject).toBe("CN=tas-yun-0014");
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.keyUsage).toContain("1.3.6.1.5.5.7.3.2"); // clientAuth
    expect((await stat(join(dir, "pillar", "tas-yun-0014.key"))).mode & 0o777).toBe(0o600);
    // never overwritten; a CN that would widen an ACL pattern is refused
    const again = await cli([
      "keys",
      "cert",
      "--ca",
      join(dir, "ca", "fleet-ca.crt"),
      "--ca-key",
      join(dir, "ca", "fleet-ca.key"),
      "--id",
      "tas-yun-0014",
      "--out",
      join(dir, "pillar"),
    ]);
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/already exists: never overwritten/);
    const wild = await cli([
      "keys",
      "cert",
      "--ca",
      join(dir, "ca", "fleet-ca.crt"),
      "--ca-key",
      join(dir, "ca", "fleet-ca.key"),
      "--id",
      "a/#",
      "--out",
      join(dir, "x"),
    ]);
    expect(wild.code).toBe(1);
    expect(wild.out).toMatch(/cannot be a certificate name/);
  });

  it("`fleet build --tls-ca` issues one certificate per row; no private key in any config", async () => {
    const ca = await createFleetCa(join(dir, "ca2"));
    const csv = (await readFile(join(ROOT, "config/examples/fleet/sites.csv"), "utf8"))
      .split("\n")
      .slice(0, 4)
      .join("\n");
    await writeFile(join(dir, "sites.csv"), `${csv}\n`);
    const out = join(dir, "build");
    const m = await buildFleet({
      inventoryPath: join(dir, "sites.csv"),
      defaultsPath: join(ROOT, "config/examples/fleet/defaults.json"),
      outDir: out,
      tlsCa: { cert: ca.certPath, key: ca.keyPath },
    });
    expect(m.count).toBe(3);
    const caCert = new X509Certificate(await readFile(ca.certPath));
    for (const p of m.pillars) {
      expect(p.cert).toBe(`certs/${p.id}.crt`);
      const cert = new X509Certificate(await readFile(join(out, p.cert!)));
      expect(cert.subject).toBe(`CN=${p.id}`);
      expect(cert.verify(caCert.publicKey)).toBe(true);
      expect((await stat(join(out, "certs", `${p.id}.key`))).mode & 0o777).toBe(0o600);
      const config = await readFile(join(out, p.file), "utf8");
      expect(config).not.toMatch(/PRIVATE KEY/);
      expect(JSON.parse(config).broker.tls).toMatchObject({ keyFile: "/etc/alarm-pillar/tls/pillar.key" });
    }
    expect((await stat(join(out, "certs"))).mode & 0o777).toBe(0o700);
    expect((await readdir(join(out, "certs"))).sort()).toHaveLength(7);
    const nats = await readFile(join(out, "certs", "nats-authorization.conf"), "utf8");
    for (const p of m.pillars) expect(nats).toContain(`user: "CN=${p.id}"`);
  });
});
