import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmod, copyFile, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TlsFileError } from "../../src/security/tls-credentials.js";
import { TestCenter } from "../support/center.js";
import { waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { SimPillar, testConfigDoc } from "../support/sim-pillar.js";
import { TestPki } from "../support/test-pki.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const REFERENCE_ACL = join(ROOT, "scripts/mosquitto/alarm-pillar.acl");

describe("MQTT over mutual TLS with the reference ACL (real Mosquitto)", () => {
  const pki = new TestPki();
  let broker: TestMosquitto;
  let center: TestCenter;
  const pillars: SimPillar[] = [];
  const clients: MqttClient[] = [];

  const tlsOf = async (cn: string) => ({
    caFile: pki.ca.certPath,
    certFile: join(pki.dir, cn, `${cn}.crt`),
    keyFile: join(pki.dir, cn, `${cn}.key`),
  });
  const clientOptions = async (cn: string): Promise<IClientOptions> => ({
    ca: await readFile(pki.ca.certPath),
    cert: await readFile(join(pki.dir, cn, `${cn}.crt`)),
    key: await readFile(join(pki.dir, cn, `${cn}.key`)),
  });
  const pillar = async (id: string, tls: Record<string, unknown>) => {
    const p = new SimPillar({ pillar: { id }, broker: { url: "x", reconnectMs: 200, connectTimeoutMs: 2000, tls } });
    pillars.push(p);
    return p.start(broker.url);
  };

  beforeAll(async () => {
    await pki.start();
    // the ACL is the shipped reference file, used as it is
    const acl = join(pki.dir, "broker", "acl");
    await copyFile(REFERENCE_ACL, acl);
    broker = await new TestMosquitto({
      tls: { caFile: pki.ca.certPath, certFile: pki.broker.certPath, keyFile: pki.broker.keyPath, aclFile: acl },
    }).start();
    for (const cn of ["center", "pillar-a", "pillar-d"]) await pki.issue(cn);
    center = await new TestCenter(broker.url, "center-tls-test", await clientOptions("center")).start("pillar/v1/#");
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
    for (const p of pillars.splice(0)) await p.dispose();
  });
  afterAll(async () => {
    await center?.stop();
    await broker?.dispose();
    await pki.dispose();
  });

  it("pillar A connects with its certificate and its press arrives; health shows the certificate's expiry", async () => {
    const a = await pillar("pillar-a", await tlsOf("pillar-a"));
    await center.until(
      () => center.received.some((r) => r.topic === "pillar/v1/pillar-a/status" && r.payload.state === "online"),
      "A online",
    );
    await a.click();
    await center.until(
      () => center.events("button.press").some((e) => e.pillarId === "pillar-a"),
      "A's press over mutual TLS",
    );
    const health = await a.app.core.health.snapshot();
    expect(health.clientCert).toMatchObject({ commonName: "pillar-a" });
    const cert = health.clientCert as { notAfter: string; daysLeft: number };
    expect(cert.daysLeft).toBeGreaterThan(390);
    expect(Date.parse(cert.notAfter)).toBeGreaterThan(Date.now());
    expect(a.app.core.faults.list()).toEqual([]);
  });

  it("a client holding A's certificate cannot write B's topics or A's commands, nor read B's commands", async () => {
    const fake = await mqtt.connectAsync(broker.url, {
      ...(await clientOptions("pillar-a")),
      clientId: "attacker-with-a-cert",
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    clients.push(fake);
    const got: string[] = [];
    fake.on("message", (topic) => got.push(topic));
    // Mosquitto grants a subscription and checks the ACL on every delivery (read access)
    await fake.subscribeAsync(["pillar/v1/pillar-b/cmd/+", "pillar/v1/pillar-b/webrtc/#", "pillar/v1/pillar-a/cmd/+"], {
      qos: 1,
    });

    const n = center.received.length;
    // a fake alarm and a fake "offline" as B, an ack of A's own incident: all dropped by the broker
    await fake.publishAsync("pillar/v1/pillar-b/event", JSON.stringify({ type: "button.press", fake: true }), {
      qos: 1,
    });
    await fake.publishAsync("pillar/v1/pillar-b/status", JSON.stringify({ state: "offline" }), {
      qos: 1,
      retain: true,
    });
    await fake.publishAsync("pillar/v1/pillar-a/cmd/incident.ack", JSON.stringify({ correlationId: "x" }), { qos: 1 });
    // then a message it may send: once the center has it, the ones before were not forwarded
    await fake.publishAsync("pillar/v1/pillar-a/health", JSON.stringify({ sentinel: 1 }), { qos: 1 });
    await center.until(() => center.received.slice(n).some((r) => r.payload.sentinel === 1), "A's own message");
    expect(center.received.slice(n).map((r) => r.topic)).toEqual(["pillar/v1/pillar-a/health"]);

    // the center commands B, then A: A's arrives, B's never reached the A certificate's client
    await center.send("pillar/v1/pillar-b/cmd/ping", { correlationId: "for-b" });
    await center.send("pillar/v1/pillar-a/cmd/ping", { correlationId: "for-a" });
    await waitFor(() => got.includes("pillar/v1/pillar-a/cmd/ping"), "A's command");
    expect(got).toEqual(["pillar/v1/pillar-a/cmd/ping"]);
  });

  it("a client without a certificate is refused", async () => {
    const errors: string[] = [];
    const anon = mqtt.connect(broker.url, {
      ca: await readFile(pki.ca.certPath),
      clientId: "no-cert",
      reconnectPeriod: 0,
      connectTimeout: 5000,
      protocolVersion: 4,
    });
    clients.push(anon);
    let connected = false;
    anon.on("connect", () => (connected = true));
    anon.on("error", (e) => errors.push(e.message));
    await waitFor(() => errors.length > 0 || anon.disconnected, "the broker's refusal", 15_000);
    expect(connected).toBe(false);
  });

  it("a replaced certificate is used without a restart; an expiring one raises cert.expiring until then", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pillar-tls-"));
    try {
      const old = await pki.issue("pillar-c", { days: 10, dir: join(dir, "old") });
      const tls = { caFile: pki.ca.certPath, certFile: join(dir, "pillar.crt"), keyFile: join(dir, "pillar.key") };
      await copyFile(old.certPath, tls.certFile);
      await copyFile(old.keyPath, tls.keyFile);
      await chmod(tls.keyFile, 0o600);
      const c = await pillar("pillar-c", { ...tls, pollS: 1 });
      await center.until(
        () => center.events("fault").some((e) => e.pillarId === "pillar-c" && (e.data as any).code === "cert.expiring"),
        "cert.expiring fault",
      );
      const onlineBefore = center.received.filter(
        (r) => r.topic === "pillar/v1/pillar-c/status" && r.payload.state === "online",
      ).length;

      // the renewal: a new key and certificate land beside the old ones and are renamed in
      const fresh = await pki.issue("pillar-c", { days: 400, dir: join(dir, "new") });
      await copyFile(fresh.keyPath, `${tls.keyFile}.tmp`);
      await chmod(`${tls.keyFile}.tmp`, 0o600);
      await copyFile(fresh.certPath, `${tls.certFile}.tmp`);
      await rename(`${tls.keyFile}.tmp`, tls.keyFile);
      await rename(`${tls.certFile}.tmp`, tls.certFile);

      await center.until(
        () => center.events("fault.cleared").some((e) => e.pillarId === "pillar-c"),
        "cert.expiring cleared",
      );
      await center.until(
        () =>
          center.received.filter((r) => r.topic === "pillar/v1/pillar-c/status" && r.payload.state === "online")
            .length > onlineBefore,
        "reconnected with the new certificate",
      );
      expect(c.app.core.uplink.certInfo()!.serialNumber).toBe(
        new X509Certificate(await readFile(fresh.certPath)).serialNumber,
      );
      expect(((await c.app.core.health.snapshot()).clientCert as { daysLeft: number }).daysLeft).toBeGreaterThan(390);
      await c.click();
      await center.until(
        () => center.events("button.press").some((e) => e.pillarId === "pillar-c"),
        "a press after the renewal",
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a private key that group or others may read, naming the field", async () => {
    const tls = await tlsOf("pillar-d");
    await chmod(tls.keyFile, 0o644);
    const p = new SimPillar({ pillar: { id: "pillar-d" }, broker: { url: "x", tls } });
    pillars.push(p);
    const err = await p.start(broker.url).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(TlsFileError);
    expect(err!.message).toMatch(/\/broker\/tls\/keyFile: .* may be read by group or others \(mode 644\)/);
  });
});

describe("production mode refuses a plaintext broker at start", () => {
  const run = async (doc: Record<string, unknown>): Promise<{ code: number | null; out: string }> => {
    const dir = await mkdtemp(join(tmpdir(), "pillar-prod-"));
    try {
      const path = join(dir, "config.json");
      await writeFile(path, JSON.stringify(doc));
      const child = spawn(process.execPath, [join(ROOT, "bin/pillar.mjs"), "run", "--config", path], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
      return { code, out };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  it("mqtt:// to a remote broker, or mqtts:// without a CA: exit 1 naming the field", async () => {
    const base = testConfigDoc({ pillar: { id: "prod-001", mode: "production" }, dataDir: tmpdir() });
    const plain = await run({ ...base, broker: { url: "mqtt://mqtt.control-center.example:1883" } });
    expect(plain.code).toBe(1);
    expect(plain.out).toMatch(/\/broker\/url: a plaintext mqtt:\/\/ broker is refused in production mode/);
    const noCa = await run({ ...base, broker: { url: "mqtts://mqtt.control-center.example:8883" } });
    expect(noCa.code).toBe(1);
    expect(noCa.out).toMatch(/\/broker\/tls\/caFile: is required in production mode/);
  });
});
