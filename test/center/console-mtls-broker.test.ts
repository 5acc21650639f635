import { chmod, copyFile, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/child.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { SimPillar } from "../support/sim-pillar.js";
import { TestPki } from "../support/test-pki.js";
import { waitFor } from "../support/wait.js";
import { ConsoleRig, call, type OpenStream, openStream, sessionCookie } from "./helpers/console-rig.js";

const SHIPPED_ACL = join(ROOT, "scripts/mosquitto/alarm-pillar.acl");
const PILLAR = "ala-bostandyk-0042";

describe("the console on the shipped mutual-TLS Mosquitto (client certificates, the reference ACL)", () => {
  const pki = new TestPki();
  const otherPki = new TestPki();
  let broker: TestMosquitto;
  let pillar: SimPillar;
  const consoles: ConsoleRig[] = [];
  const streams: OpenStream[] = [];
  let dir = "";

  /** The center's certificate files where a console config points (copies: a test may replace them). */
  async function centerFiles(from: TestPki, name: string) {
    const issued = await from.issue("center", { dir: join(dir, `issued-${name}`) });
    const files = { caFile: pki.ca.certPath, certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
    await copyFile(issued.certPath, files.certFile);
    await copyFile(issued.keyPath, files.keyFile);
    await chmod(files.keyFile, 0o600);
    return files;
  }

  async function startConsole(brokerTls: Record<string, unknown>) {
    const officers: [string, "officer", string][] = [["dana", "officer", "dana-pass-12"]];
    const rig = new ConsoleRig({ brokerUrl: broker.url, officers, config: { brokerTls } });
    consoles.push(rig);
    return rig.start();
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "console-mtls-"));
    await pki.start();
    await otherPki.start();
    const acl = join(pki.dir, "broker", "acl");
    await copyFile(SHIPPED_ACL, acl);
    broker = await new TestMosquitto({
      tls: { caFile: pki.ca.certPath, certFile: pki.broker.certPath, keyFile: pki.broker.keyPath, aclFile: acl },
    }).start();
    const p = await pki.issue(PILLAR);
    pillar = await new SimPillar({
      pillar: { id: PILLAR },
      broker: {
        url: "x",
        reconnectMs: 200,
        connectTimeoutMs: 2000,
        tls: { caFile: pki.ca.certPath, certFile: p.certPath, keyFile: p.keyPath },
      },
    }).start(broker.url);
  });

  afterAll(async () => {
    for (const s of streams) s.close();
    for (const c of consoles) await c.stop();
    await pillar?.dispose();
    await broker?.dispose();
    await pki.dispose();
    await otherPki.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("with the center's certificate the console sees the pillar and logs its press; an anonymous client is refused", async () => {
    const rig = await startConsole(await centerFiles(pki, "center"));
    const cookie = sessionCookie(await rig.login("dana", "dana-pass-12"));
    const stream = await openStream(rig.url, cookie);
    streams.push(stream);
    await pillar.click();
    await waitFor(() => stream.text().includes('"button.press"'), "the press on the console's stream");
    await waitFor(async () => {
      const h = await call(rig.url, "/api/history?closed=any", { cookie });
      return JSON.stringify(h.json).includes(PILLAR);
    }, "the press in the incident log");

    // nobody without a fleet certificate gets in (who could otherwise forge presses and acks)
    const anon = mqtt.connect(broker.url, { rejectUnauthorized: false, reconnectPeriod: 0, connectTimeout: 5000 });
    let connected = false;
    const errors: string[] = [];
    anon.on("connect", () => (connected = true));
    anon.on("error", (e) => errors.push(e.message));
    await waitFor(() => errors.length > 0 || anon.disconnected, "the broker's refusal");
    await anon.endAsync(true);
    expect(connected).toBe(false);
  });

  it("a bad certificate file stops the start naming the field", async () => {
    const files = await centerFiles(pki, "loose");
    await chmod(files.keyFile, 0o644);
    await expect(startConsole(files)).rejects.toThrow(/console config \/brokerTls\/keyFile: .*group or others/);
  });

  it("replaced certificate files are used without a restart", async () => {
    // first a certificate of another CA: the broker refuses it
    const files = await centerFiles(otherPki, "rotated");
    const rig = await startConsole({ ...files, pollS: 1 });
    const cookie = sessionCookie(await rig.login("dana", "dana-pass-12"));
    const ack = { correlationId: "c-1", incidentId: "i-1", issuedAt: new Date().toISOString() };
    const refused = await call(rig.url, "/api/publish", {
      cookie,
      body: { topic: `pillar/v1/${PILLAR}/cmd/incident.ack`, payload: ack },
    });
    expect(refused.status).toBe(503);

    // the renewal lands beside the old files and is renamed in
    const good = await pki.issue("center", { dir: join(dir, "issued-renewed") });
    await copyFile(good.keyPath, `${files.keyFile}.tmp`);
    await chmod(`${files.keyFile}.tmp`, 0o600);
    await copyFile(good.certPath, `${files.certFile}.tmp`);
    await rename(`${files.keyFile}.tmp`, files.keyFile);
    await rename(`${files.certFile}.tmp`, files.certFile);
    expect(await readFile(files.certFile)).toEqual(await readFile(good.certPath));

    const stream = await openStream(rig.url, cookie);
    streams.push(stream);
    await waitFor(
      async () => {
        const again = await call(rig.url, "/api/publish", {
          cookie,
          body: { topic: `pillar/v1/${PILLAR}/cmd/incident.ack`, payload: ack },
        });
        return again.status === 200;
      },
      "the console connected with the renewed certificate",
      30_000,
      500,
    );
    await pillar.click();
    await waitFor(() => stream.text().includes('"button.press"'), "a press live after the renewal", 30_000);
  });
});
