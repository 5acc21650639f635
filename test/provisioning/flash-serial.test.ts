import { mkdtemp, readFile, rm, writeFile, access } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GeneratedKeys } from "../../src/provisioning/fleet-keys.js";
import { sha256Hex } from "../../src/provisioning/config-signature.js";
import { bundleScript } from "../support/bundle.js";
import { Child } from "../support/child.js";
import { pillarDoc, readPair, testKeys, writeConfig } from "./helpers/fixtures.js";
import { SerialProxy } from "./helpers/serial-proxy.js";
import { SocatPair } from "../support/socat-pair.js";

/**
 * `pillar flash` end to end: the CLI in one process, the pillar's provisioning listener in
 * another, joined by real socat pty pairs (and, for line faults, a proxy between two pairs).
 */
describe("pillar flash over a serial cable (socat pty pair)", { timeout: 180_000 }, () => {
  let dir: string;
  let keys: GeneratedKeys;
  let configPath: string;
  let oldBytes: Buffer;
  let newPath: string;
  const pairs: SocatPair[] = [];
  const children: Child[] = [];
  const proxies: SerialProxy[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "flash-"));
    keys = await testKeys(dir);
    configPath = join(dir, "config.json");
    oldBytes = await writeConfig(
      configPath,
      pillarDoc({ id: "tas-old-0001", lat: 41.3, lon: 69.2, address: "Navoi Street 1" }),
      keys,
    );
    newPath = join(dir, "tas-new-0002.json");
    await writeConfig(
      newPath,
      pillarDoc({
        id: "tas-new-0002",
        lat: 41.3645,
        lon: 69.2867,
        address: "Amir Temur Avenue 107, near Minor Mosque",
        district: "Yunusabad district",
      }),
      keys,
    );
  });

  afterEach(async () => {
    for (const p of proxies.splice(0)) await p.stop();
    for (const c of children.splice(0)) await c.kill();
    for (const p of pairs.splice(0)) await p.kill();
    await rm(dir, { recursive: true, force: true });
  });

  async function pair(): Promise<SocatPair> {
    const p = await new SocatPair().start();
    pairs.push(p);
    return p;
  }

  async function listener(port: string, env: Record<string, string> = {}): Promise<Child> {
    // bundled once: each listener starts without tsx's compile (the file starts many)
    const script = await bundleScript("test/provisioning/helpers/listener-child.ts");
    const c = new Child([script, configPath, port, keys.publicKeyPath], env, []);
    children.push(c);
    await c.waitFor(/LISTENING/);
    return c;
  }

  async function flash(
    port: string,
    file = newPath,
    extra: string[] = [],
  ): Promise<{ code: number | null; out: string }> {
    const c = Child.cli(["flash", file, "--port", port, "--timeout", "1000", ...extra]);
    children.push(c);
    const code = await c.exited;
    return { code, out: c.output };
  }

  /** Two pty pairs with a proxy between them: installer ↔ A ↔ proxy ↔ B ↔ pillar. */
  async function cableWithProxy(
    edit: (line: string) => string | null,
  ): Promise<{ clientPort: string; pillarPort: string; proxy: SerialProxy; a: SocatPair; b: SocatPair }> {
    const a = await pair();
    const b = await pair();
    const proxy = new SerialProxy(a.b, b.a, edit);
    proxies.push(proxy);
    await proxy.start();
    return { clientPort: a.a, pillarPort: b.b, proxy, a, b };
  }

  async function expectOldConfigKept(): Promise<void> {
    expect(sha256Hex(await readFile(configPath))).toBe(sha256Hex(oldBytes));
    expect((await readPair(configPath, keys.publicKeyPath)).signatureValid).toBe(true);
    await expect(access(`${configPath}.trial`)).rejects.toThrow();
  }

  it("flashes a signed config: the pillar stores it, keeps the old one as .prev and runs the new one", async () => {
    const cable = await pair();
    const pillar = await listener(cable.b);
    const r = await flash(cable.a);
    expect(r.out).toContain("connected: pillar tas-old-0001");
    expect(r.out).toMatch(/verified: config for tas-new-0002, signed by key [0-9a-f]{16}/);
    expect(r.out).toMatch(/RESULT ok: applied config for tas-new-0002/);
    expect(r.code).toBe(0);
    const applied = await pillar.waitFor(/APPLIED (.*)/);
    expect(JSON.parse(applied[1]!).location).toMatchObject({
      lat: 41.3645,
      address: "Amir Temur Avenue 107, near Minor Mosque",
    });
    const now = await readPair(configPath, keys.publicKeyPath);
    expect(now.config.pillar.id).toBe("tas-new-0002");
    expect(now.signatureValid).toBe(true);
    expect(sha256Hex(await readFile(`${configPath}.prev`))).toBe(sha256Hex(oldBytes));
    await expect(access(`${configPath}.trial`)).rejects.toThrow();
  });

  it("pulled cable mid-transfer: the CLI fails clearly and the pillar keeps its old config and keeps running", async () => {
    let cut = false;
    const { clientPort, pillarPort, a, b } = await cableWithProxy((line) => {
      if (line.includes('"t":"DATA","seq":2,') && !cut) {
        cut = true;
        void a.kill();
        void b.kill();
        return null;
      }
      return line;
    });
    const pillar = await listener(pillarPort);
    const r = await flash(clientPort);
    expect(cut).toBe(true);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/flash failed: .*(serial link (closed|failed)|gave up).*chunk 3\//);
    expect(r.out).toMatch(/cable/);
    await pillar.waitFor(
      /transfer aborted \(serial link closed\) after 2\/\d+ chunks; the current config is unchanged/,
    );
    expect(pillar.alive()).toBe(true);
    await expectOldConfigKept();
  });

  it("a 16 MB line without a newline is refused cheaply (bounded before the newline); the link answers HELLO after", async () => {
    const cable = await pair();
    const pillar = await listener(cable.b);
    const { SerialPort } = await import("serialport");
    const port = new SerialPort({ path: cable.a, baudRate: 115200, autoOpen: false, hupcl: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    const junk = Buffer.alloc(1024 * 1024, 0x41);
    for (let i = 0; i < 16; i++) {
      await new Promise<void>((resolve, reject) =>
        port.write(junk, (e) => (e ? reject(e) : port.drain(() => resolve()))),
      );
    }
    await new Promise<void>((resolve) => port.write("\n", () => port.drain(() => resolve())));
    await new Promise<void>((resolve) => port.close(() => resolve()));
    // the listener refused the line (a NAK "line too long") and still speaks the protocol
    const r = await flash(cable.a);
    expect(r.out).toContain("connected: pillar tas-old-0001");
    expect(r.code).toBe(0);
    expect(pillar.alive()).toBe(true);
  });

  it("a chunk corrupted on the line is refused by its checksum and sent again", async () => {
    let corrupted = 0;
    const { clientPort, pillarPort, proxy } = await cableWithProxy((line) => {
      if (line.includes('"t":"DATA","seq":1,') && corrupted === 0) {
        corrupted++;
        const i = line.indexOf('"data":"') + 20;
        return line.slice(0, i) + (line[i] === "A" ? "B" : "A") + line.slice(i + 1);
      }
      return line;
    });
    await listener(pillarPort);
    const r = await flash(clientPort);
    expect(corrupted).toBe(1);
    expect(r.out).toMatch(/RESULT ok: .*1 frames resent/);
    expect(r.code).toBe(0);
    const chunks = Number(/in (\d+) chunks/.exec(r.out)![1]);
    expect(proxy.dataLines).toBe(chunks + 1);
    expect((await readPair(configPath, keys.publicKeyPath)).config.pillar.id).toBe("tas-new-0002");
  });

  it("a chunk that is corrupted every time ends in a clear failure, nothing applied", async () => {
    const { clientPort, pillarPort } = await cableWithProxy((line) =>
      line.includes('"t":"DATA","seq":1,') ? line.replace('"data":"', '"data":"AAAA') : line,
    );
    const pillar = await listener(pillarPort);
    const r = await flash(clientPort);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/flash failed: transfer of chunk 2\/\d+: gave up after 5 tries \(frame checksum mismatch\)/);
    expect(pillar.alive()).toBe(true);
    await expectOldConfigKept();
  });

  it("a tampered signature is refused and the pillar keeps its config", async () => {
    const sig = await readFile(`${newPath}.sig`, "utf8");
    const parts = sig.trim().split(" ");
    const b64 = parts[4]!;
    parts[4] = (b64[0] === "A" ? "B" : "A") + b64.slice(1);
    await writeFile(`${newPath}.sig`, `${parts.join(" ")}\n`);
    const cable = await pair();
    const pillar = await listener(cable.b);
    const r = await flash(cable.a);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /refused during VERIFY: refused: config: the signature does not verify .*tampered or forged signature/,
    );
    expect(pillar.alive()).toBe(true);
    expect(pillar.stdout).not.toContain("APPLIED");
    await expectOldConfigKept();
  });

  it("a config changed after signing, or not signed at all, is refused by a production pillar", async () => {
    const text = (await readFile(newPath, "utf8")).replace("41.3645", "41.3646");
    await writeFile(newPath, text);
    const cable = await pair();
    await listener(cable.b);
    const tampered = await flash(cable.a);
    expect(tampered.code).toBe(1);
    expect(tampered.out).toMatch(/config was changed after signing/);
    const unsigned = await flash(cable.a, newPath, ["--unsigned"]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.out).toMatch(/this pillar is in production mode and the config is not signed/);
    await expectOldConfigKept();
  });

  it("a config that fails the self-test is rolled back and the pillar runs its old config again", async () => {
    await writeConfig(
      newPath,
      pillarDoc({ id: "tas-new-0002", lat: 41.36, missingFirmataPort: join(dir, "no-such-tty") }),
      keys,
    );
    const cable = await pair();
    const pillar = await listener(cable.b);
    const r = await flash(cable.a);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /RESULT failed at self-test: self-test failed: hal.firmata.port .*no-such-tty does not exist.*rolled back to the previous config/,
    );
    await pillar.waitFor(/APPLIED .*tas-old-0001/);
    const applied = [...pillar.stdout.matchAll(/APPLIED (.*)/g)].map((m) => JSON.parse(m[1]!).id as string);
    expect(applied).toEqual(["tas-new-0002", "tas-old-0001"]);
    await expectOldConfigKept();
  });

  it("the pillar killed (SIGKILL) in the middle of storing the flashed config: the CLI says so, and after the restart the pillar runs a whole config", async () => {
    const cable = await pair();
    const pillar = await listener(cable.b, { PILLAR_APPLY_PAUSE_AT: "config:config-renamed" });
    const cli = Child.cli(["flash", newPath, "--port", cable.a, "--timeout", "1000"]);
    children.push(cli);
    await pillar.waitFor(/PILLAR_APPLY_PAUSED config:config-renamed/);
    await pillar.kill("SIGKILL");
    expect(await cli.exited).toBe(1);
    expect(cli.output).toMatch(/flash failed: the pillar accepted APPLY, then stopped answering/);
    // On disk right after the kill: the new config, whole and signed (renamed into place).
    const afterKill = await readPair(configPath, keys.publicKeyPath);
    expect(afterKill.config.pillar.id).toBe("tas-new-0002");
    expect(afterKill.signatureValid).toBe(true);
    // The restarted pillar rolls back the config that never passed its self-test.
    const rebooted = await listener(cable.b);
    expect(rebooted.stdout).toMatch(/LISTENING .*"id":"tas-old-0001".*"rolledBack":true/);
    await expectOldConfigKept();
  });
});
