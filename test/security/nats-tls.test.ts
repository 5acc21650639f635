import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { natsAuthorization, PILLAR_READS, PILLAR_WRITES } from "../../src/security/broker-acl.js";
import { TestCenter } from "../support/center.js";
import { freePort } from "../support/free-port.js";
import { stopChild } from "../support/processes.js";
import { waitFor } from "../support/wait.js";
import { SimPillar } from "../support/sim-pillar.js";
import { TestPki } from "../support/test-pki.js";

const ACL = fileURLToPath(new URL("../../scripts/mosquitto/alarm-pillar.acl", import.meta.url));

describe("the broker's access rules", () => {
  it("the reference Mosquitto ACL lists exactly the pillar topics of src/security/broker-acl.ts", async () => {
    const lines = (await readFile(ACL, "utf8")).split("\n").filter((l) => l.startsWith("pattern "));
    const of = (verb: string) =>
      lines.filter((l) => l.startsWith(`pattern ${verb} `)).map((l) => l.split(" ")[2]!.replace("pillar/v1/%u/", ""));
    expect(of("write").sort()).toEqual([...PILLAR_WRITES].sort());
    expect(of("read").sort()).toEqual([...PILLAR_READS].sort());
  });
});

describe("the same rules on NATS's MQTT listener with mutual TLS (verify_and_map)", () => {
  const pki = new TestPki();
  let nats: ChildProcess | undefined;
  let log = "";
  let url = "";
  let center: TestCenter;
  const clients: MqttClient[] = [];
  let pillar: SimPillar | undefined;
  const opts = async (cn: string): Promise<IClientOptions> => ({
    ca: await readFile(pki.ca.certPath),
    cert: await readFile(join(pki.dir, cn, `${cn}.crt`)),
    key: await readFile(join(pki.dir, cn, `${cn}.key`)),
  });

  beforeAll(async () => {
    await pki.start();
    for (const cn of ["center", "pillar-a", "pillar-b"]) await pki.issue(cn);
    const [client, mqttPort] = [await freePort(), await freePort()];
    const store = join(pki.dir, "jetstream");
    await mkdir(store);
    const conf = join(pki.dir, "nats.conf");
    await writeFile(
      conf,
      [
        "server_name: tls1",
        `listen: 127.0.0.1:${client}`,
        `jetstream { store_dir: "${store}", max_mem: 64M, max_file: 1G }`,
        `mqtt { listen: 127.0.0.1:${mqttPort}, tls { cert_file: "${pki.broker.certPath}", key_file: "${pki.broker.keyPath}", ca_file: "${pki.ca.certPath}", verify_and_map: true, timeout: 5 } }`,
        natsAuthorization(["pillar-a", "pillar-b"]),
      ].join("\n"),
    );
    nats = spawn(process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server", ["-c", conf], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    nats.stdout?.on("data", (d: Buffer) => (log += d.toString()));
    nats.stderr?.on("data", (d: Buffer) => (log += d.toString()));
    url = `mqtts://127.0.0.1:${mqttPort}`;
    await waitFor(() => log.includes("Server is ready") || nats!.exitCode !== null, "nats-server ready", 30_000);
    expect(nats.exitCode, log).toBeNull();
    center = await new TestCenter(url, "center-nats", await opts("center")).start("pillar/v1/#");
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    await pillar?.dispose();
    await center?.stop();
    await stopChild(nats);
    await pki.dispose();
  });

  it("pillar A's press arrives; A's certificate cannot publish as B nor subscribe to B's commands", async () => {
    pillar = new SimPillar({
      pillar: { id: "pillar-a" },
      broker: {
        url: "x",
        reconnectMs: 200,
        tls: {
          caFile: pki.ca.certPath,
          certFile: join(pki.dir, "pillar-a", "pillar-a.crt"),
          keyFile: join(pki.dir, "pillar-a", "pillar-a.key"),
        },
      },
    });
    await pillar.start(url);
    await waitFor(() => pillar!.app.core.uplink.isConnected(), "pillar A connected to NATS", 30_000);
    await pillar.click();
    await center.until(() => center.events("button.press").some((e) => e.pillarId === "pillar-a"), "A's press", 30_000);

    const fake = await mqtt.connectAsync(url, { ...(await opts("pillar-a")), clientId: "fake-a", reconnectPeriod: 0 });
    clients.push(fake);
    const refused = await fake.subscribeAsync("pillar/v1/pillar-b/cmd/+", { qos: 1 }).then(
      () => "granted",
      (e: Error) => e.message,
    );
    expect(refused).not.toBe("granted");
    const n = center.received.length;
    await fake
      .publishAsync("pillar/v1/pillar-b/event", JSON.stringify({ fake: true }), { qos: 1 })
      .catch(() => undefined);
    await fake.publishAsync("pillar/v1/pillar-a/health", JSON.stringify({ sentinel: 1 }), { qos: 1 });
    await center.until(() => center.received.slice(n).some((r) => r.payload.sentinel === 1), "A's own message");
    expect(center.received.slice(n).map((r) => r.topic)).toEqual(["pillar/v1/pillar-a/health"]);
    // nats-server logs each refusal (its stdout may lag the MQTT traffic a little)
    await waitFor(
      () => /Publish Violation - User "CN=pillar-a", Subject "pillar\.v1\.pillar-b\.event"/.test(log),
      "log",
    );
    expect(log).toMatch(/Subscription Violation - User "CN=pillar-a", Subject "pillar\.v1\.pillar-b\.cmd\.\*"/);
  });
});
