import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmbeddedBroker } from "../../src/broker/embedded-broker.js";
import type { GeneratedKeys } from "../../src/provisioning/fleet-keys.js";
import { TestCenter } from "../support/center.js";
import { PillarProcess } from "../support/pillar-process.js";
import { Child } from "../support/child.js";
import { pillarDoc, readPair, testKeys, writeConfig } from "./helpers/fixtures.js";
import { SocatPair } from "../support/socat-pair.js";

/**
 * The real `pillar run --provision-port PTY` process: a config flashed over the cable, or sent
 * as the MQTT command config.apply, is used by the running pillar: its next events carry the
 * new location.
 */
describe("a running pillar takes a flashed config", () => {
  let dir: string;
  let keys: GeneratedKeys;
  let broker: EmbeddedBroker;
  let center: TestCenter;
  let cable: SocatPair;
  let pillar: PillarProcess;
  let configPath: string;
  const clis: Child[] = [];

  const doc = (lat: number, address: string) =>
    pillarDoc({
      id: "tas-e2e-0001",
      lat,
      lon: 69.28,
      address,
      district: "Yunusabad district",
      brokerUrl: broker.url,
      dataDir: join(dir, "data"),
    });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "run-prov-"));
    keys = await testKeys(dir);
    broker = new EmbeddedBroker({ port: 0, log: pino({ level: "silent" }) });
    await broker.start();
    center = await new TestCenter(broker.url).start();
    cable = await new SocatPair().start();
    configPath = join(dir, "config.json");
    await writeConfig(configPath, doc(41.3, "Navoi Street 1"), keys);
    process.env.PILLAR_FLEET_PUBKEY = keys.publicKeyPath;
    pillar = await new PillarProcess(configPath, ["--provision-port", cable.b]).start();
    delete process.env.PILLAR_FLEET_PUBKEY;
  });

  afterEach(async () => {
    for (const c of clis.splice(0)) await c.kill();
    await pillar.kill("SIGKILL");
    await cable.kill();
    await center.stop();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function cli(args: string[]): Promise<{ code: number | null; out: string }> {
    const c = Child.cli(args);
    clis.push(c);
    return { code: await c.exited, out: c.output };
  }

  async function pressAndGetLocation(): Promise<Record<string, unknown>> {
    const before = center.events("button.press").length;
    await pillar.click();
    await center.until(() => center.events("button.press").length > before, "a button.press event");
    return center.events("button.press").at(-1)!.location as Record<string, unknown>;
  }

  it("over the serial cable, then over MQTT; a tampered config sent over MQTT is refused", async () => {
    expect(await pressAndGetLocation()).toMatchObject({ lat: 41.3, address: "Navoi Street 1" });

    const flashed = join(dir, "site.json");
    await writeConfig(flashed, doc(41.3645, "Amir Temur Avenue 107, near Minor Mosque"), keys);
    const serial = await cli(["flash", flashed, "--port", cable.a]);
    expect(serial.out).toMatch(/connected: pillar tas-e2e-0001, software \d+\.\d+\.\d+, production mode/);
    expect(serial.code).toBe(0);
    expect(await pressAndGetLocation()).toMatchObject({
      lat: 41.3645,
      address: "Amir Temur Avenue 107, near Minor Mosque",
    });
    expect((await readPair(configPath, keys.publicKeyPath)).config.location.lat).toBe(41.3645);

    const viaMqtt = join(dir, "site2.json");
    await writeConfig(viaMqtt, doc(41.2957, "Afrosiyob Street 7"), keys);
    const mq = await cli(["flash", viaMqtt, "--mqtt", "--broker", broker.url, "--id", "tas-e2e-0001"]);
    expect(mq.out).toMatch(/pillar tas-e2e-0001: applied config for tas-e2e-0001/);
    expect(mq.code).toBe(0);
    expect(await pressAndGetLocation()).toMatchObject({ lat: 41.2957, address: "Afrosiyob Street 7" });

    await writeFile(viaMqtt, (await readFile(viaMqtt, "utf8")).replace("Afrosiyob Street 7", "Afrosiyob Street 8"));
    const tampered = await cli(["flash", viaMqtt, "--mqtt", "--broker", broker.url, "--id", "tas-e2e-0001"]);
    expect(tampered.code).toBe(1);
    expect(tampered.out).toMatch(/did not apply the config: tampered: refused: config was changed after signing/);
    expect(await pressAndGetLocation()).toMatchObject({ address: "Afrosiyob Street 7" });
  }, 180_000); // three applies, each with its self-test: a failure guard for a loaded machine

  it("over MQTT, a new pillar id restarts the services and the answer still arrives", async () => {
    const renamed = join(dir, "renamed.json");
    await writeConfig(
      renamed,
      { ...doc(41.3383, "Mustaqillik Avenue 5"), pillar: { id: "tas-e2e-0002", mode: "production" } },
      keys,
    );
    const mq = await cli(["flash", renamed, "--mqtt", "--broker", broker.url, "--id", "tas-e2e-0001"]);
    expect(mq.out).toMatch(/pillar tas-e2e-0001: applied config for tas-e2e-0002/);
    expect(mq.code).toBe(0);
    expect(pillar.output.match(/control endpoint listening/g)!.length).toBe(2);
    await pillar.click();
    await center.until(
      () => center.received.some((r) => r.topic === "pillar/v1/tas-e2e-0002/event"),
      "an event of the renamed pillar",
    );
    const ev = center.received.find((r) => r.topic === "pillar/v1/tas-e2e-0002/event")!.payload;
    expect(ev).toMatchObject({ pillarId: "tas-e2e-0002", location: { address: "Mustaqillik Avenue 5" } });
  });
});
