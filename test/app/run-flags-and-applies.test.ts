import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GeneratedKeys } from "../../src/provisioning/fleet-keys.js";
import { Child } from "../support/child.js";
import { pillarDoc, readPair, testKeys, writeConfig } from "../provisioning/helpers/fixtures.js";
import { SocatPair } from "../support/socat-pair.js";
import { TestCenter } from "../support/center.js";
import { freePort } from "../support/free-port.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { PillarProcess } from "../support/pillar-process.js";

/**
 * `pillar run --sim --control-port N --provision-port PTY`: the run's flags are an overlay on
 * every config the pillar takes, and config applies run one at a time.
 */
describe("pillar run: flags survive applied configs; applies are serialized", () => {
  let dir: string;
  let keys: GeneratedKeys;
  let mosq: TestMosquitto;
  let center: TestCenter;
  let cable: SocatPair;
  let pillar: PillarProcess;
  let configPath: string;
  let controlPort: number;
  const clis: Child[] = [];
  const ID = "ala-flags-0001";

  const doc = (address: string, over: Record<string, unknown> = {}) => ({
    ...pillarDoc({ id: ID, lat: 43.2567, lon: 76.9286, address, district: "Almaly", dataDir: join(dir, "cfg-data") }),
    // the flashed config names another broker, data folder and control port: the flags win
    broker: { url: "mqtt://127.0.0.1:1" },
    ...over,
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "run-flags-"));
    keys = await testKeys(dir);
    mosq = await new TestMosquitto().start();
    center = await new TestCenter(mosq.url).start();
    cable = await new SocatPair().start();
    configPath = join(dir, "config.json");
    await writeConfig(configPath, doc("Abai Avenue 10"), keys);
    controlPort = await freePort();
    process.env.PILLAR_FLEET_PUBKEY = keys.publicKeyPath;
    pillar = await new PillarProcess(configPath, [
      "--sim",
      "--broker",
      mosq.url,
      "--data-dir",
      join(dir, "data"),
      "--control-port",
      String(controlPort),
      "--provision-port",
      cable.b,
    ]).start(90_000); // a guard only: the machine is shared
    delete process.env.PILLAR_FLEET_PUBKEY;
  }, 120_000);

  afterEach(async () => {
    for (const c of clis.splice(0)) await c.kill();
    await pillar?.kill("SIGKILL");
    await cable.kill();
    await center.stop();
    await mosq.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  function cli(args: string[]): Promise<{ code: number | null; out: string }> {
    const c = Child.cli(args);
    clis.push(c);
    return c.exited.then((code) => ({ code, out: c.output }));
  }

  async function pressAndGetLocation(): Promise<Record<string, unknown>> {
    const before = center.events("button.press").length;
    await pillar.click();
    await center.until(() => center.events("button.press").length > before, "a button.press event", 30_000);
    return center.events("button.press").at(-1)!.location as Record<string, unknown>;
  }

  async function controlAnswers(port: number): Promise<boolean> {
    return fetch(`http://127.0.0.1:${port}/state`).then(
      (r) => r.ok,
      () => false,
    );
  }

  it("a serial flash keeps --control-port, --data-dir and --broker; the next press carries the new location", async () => {
    expect(pillar.controlPort).toBe(controlPort);
    expect(await pressAndGetLocation()).toMatchObject({ address: "Abai Avenue 10" });
    const otherPort = await freePort();
    const flashed = join(dir, "site.json");
    // another control port and broker (the flags win), and a renamed pillar: a restart-type apply
    await writeConfig(
      flashed,
      doc("Dostyk Avenue 85", {
        pillar: { id: ID, name: "Dostyk 85", mode: "production" },
        control: { port: otherPort },
        broker: { url: "mqtt://127.0.0.1:2" },
      }),
      keys,
    );
    const serial = await cli(["flash", flashed, "--port", cable.a]);
    expect(serial.out).toMatch(/applied/);
    expect(serial.code).toBe(0);
    expect((await readPair(configPath, keys.publicKeyPath)).config.control.port).toBe(otherPort);
    expect(pillar.output.match(/control endpoint listening/g)!.length).toBe(2);
    expect(await controlAnswers(controlPort)).toBe(true);
    expect(await controlAnswers(otherPort)).toBe(false);
    expect(pillar.controlPort).toBe(controlPort);
    expect(await pressAndGetLocation()).toMatchObject({ address: "Dostyk Avenue 85" });
    const state = await pillar.http("GET", "/health");
    expect(state.pillarId).toBe(ID);
    // the journal and the incident store stayed in --data-dir
    expect(existsSync(join(dir, "data"))).toBe(true);
    expect(existsSync(join(dir, "cfg-data"))).toBe(false);
  }, 180_000);

  it("an MQTT config.apply and a serial flash at once: each answered, one after the other, one consistent config", async () => {
    const viaMqtt = join(dir, "mqtt.json");
    const viaSerial = join(dir, "serial.json");
    await writeConfig(viaMqtt, doc("Satpayev Street 22", { pillar: { id: ID, mode: "production" } }), keys);
    await writeConfig(viaSerial, doc("Tole Bi Street 101", { control: { port: 1 } }), keys);
    const [mq, serial] = await Promise.all([
      cli(["flash", viaMqtt, "--mqtt", "--broker", mosq.url, "--id", ID]),
      cli(["flash", viaSerial, "--port", cable.a]),
    ]);
    expect(mq.code, mq.out).toBe(0);
    expect(serial.code, serial.out).toBe(0);
    // none interleaved: every apply the pillar logs ends before the next one begins
    const steps = pillar.output
      .split("\n")
      .filter((l) => l.includes('"config-applier"'))
      .map((l) => JSON.parse(l) as { msg: string; source?: string })
      .filter((l) => l.msg === "applying a config" || l.msg === "config applied" || l.msg === "config not applied")
      .map((l) => (l.msg === "applying a config" ? `begin ${l.source}` : `end ${l.source}`));
    expect(steps).toHaveLength(4);
    expect(steps[0]!.replace("begin", "end")).toBe(steps[1]);
    expect(steps[2]!.replace("begin", "end")).toBe(steps[3]);
    expect(new Set([steps[0], steps[2]])).toEqual(new Set(["begin mqtt", "begin serial"]));
    // one consistent config: the file on disk is the last one applied, and the pillar uses it
    const lastAddress = steps[2] === "begin mqtt" ? "Satpayev Street 22" : "Tole Bi Street 101";
    expect((await readPair(configPath, keys.publicKeyPath)).config.location.address).toBe(lastAddress);
    expect(await pressAndGetLocation()).toMatchObject({ address: lastAddress });
    expect(await controlAnswers(controlPort)).toBe(true);
  }, 180_000);
});
