import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PillarConfig } from "../../config/schema.js";
import { SimPillarIo } from "../../hal/sim/sim-pillar-io.js";
import type { BusEvents } from "../../src/bus/events.js";
import { createDrivers } from "../../src/app/drivers.js";
import { PillarApp } from "../../src/app/pillar-app.js";
import { validateConfig } from "../../src/config/validate-config.js";
import { ConfigApplier } from "../../src/provisioning/config-applier.js";
import { configBytes, pillarDoc, writeConfig } from "../provisioning/helpers/fixtures.js";
import { TestCenter } from "../support/center.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { testConfigDoc } from "../support/sim-pillar.js";

const silent = pino({ level: process.env.TEST_LOG ?? "silent" });

describe("config applies on a running pillar", () => {
  let dir: string;
  let mosq: TestMosquitto;
  let center: TestCenter;
  let app: PillarApp | undefined;
  const io = new SimPillarIo();
  /** Runs inside the next rebuild, after the old services stopped and before the new ones start. */
  let duringRebuild: (() => Promise<void>) | undefined;

  const config = (address: string, name: string): PillarConfig =>
    validateConfig(
      testConfigDoc({
        pillar: { id: "ala-apply-0001", name },
        location: { lat: 43.2389, lon: 76.8897, address, district: "Bostandyk" },
        dataDir: dir,
        broker: { url: mosq.url, reconnectMs: 200, connectTimeoutMs: 2000 },
      }),
      "test",
    );

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "apply-"));
    mosq = await new TestMosquitto().start();
    center = await new TestCenter(mosq.url).start();
    duringRebuild = undefined;
    let builds = 0;
    app = new PillarApp({
      config: config("Al-Farabi Avenue 71", "Al-Farabi 71"),
      version: "0.0.0-test",
      log: silent,
      drivers: async (c, log) => {
        if (builds++ > 0) {
          const hook = duringRebuild;
          duringRebuild = undefined;
          await hook?.();
        }
        return { ...(await createDrivers(c, log)), io };
      },
    });
    await app.start();
    await center.until(() => app!.core.uplink.isConnected(), "the pillar online");
  });

  afterEach(async () => {
    await app?.stop();
    await center.stop();
    await mosq.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  function next<K extends keyof BusEvents>(bus: PillarApp["core"]["bus"], name: K): Promise<BusEvents[K]> {
    return new Promise((resolve) => {
      const off = bus.on(name, (p) => {
        off();
        resolve(p);
      });
    });
  }

  it("a press made while a restart-type apply rebuilds the services arrives at the broker", async () => {
    const old = app!.core;
    duringRebuild = async () => {
      // the old incident controller is stopped now; the button is still watched
      const pressed = next(old.bus, "button.pressed");
      io.button.press();
      await pressed;
      const released = next(old.bus, "button.released");
      io.button.release();
      await released;
    };
    // a renamed pillar: every service is rebuilt
    expect(await app!.applyConfig(config("Al-Farabi Avenue 71", "Al-Farabi 71 (renamed)"))).toBe("restarted");
    expect(duringRebuild).toBeUndefined(); // the hook ran
    expect(app!.core).not.toBe(old);
    await center.until(() => center.events("button.press").length === 1, "the press made during the restart");
    expect(center.events("button.press")[0]).toMatchObject({
      pillarId: "ala-apply-0001",
      location: { address: "Al-Farabi Avenue 71" },
    });
    expect(app!.core.incidents.snapshot().state).toBe("alarm");
  });

  it("an apply abandoned mid-rebuild leaves the pillar stopped; the next apply (the rollback) brings it back", async () => {
    const ac = new AbortController();
    duringRebuild = async () => ac.abort(new Error("timed out"));
    await expect(app!.applyConfig(config("Navoi Street 1", "renamed"), ac.signal)).rejects.toThrow(/abandoned/);
    expect(await app!.applyConfig(config("Al-Farabi Avenue 71", "Al-Farabi 71"))).toBe("restarted");
    await center.until(() => app!.core.uplink.isConnected(), "the pillar online again");
    io.button.press();
    await center.until(() => center.events("button.press").length === 1, "a press after the rollback");
    io.button.release();
    expect(center.events("button.press")[0]).toMatchObject({ location: { address: "Al-Farabi Avenue 71" } });
  });
});

describe("ConfigApplier", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "applier-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const doc = (address: string) => pillarDoc({ id: "ala-applier-1", mode: "development", address });

  it("abandons a timed-out apply (and waits for it to settle) before its rollback starts", async () => {
    const path = join(dir, "config.json");
    await writeConfig(path, doc("Old Square 1"));
    let running = validateConfig(doc("Old Square 1"));
    const steps: string[] = [];
    const applier = new ConfigApplier({
      configPath: path,
      current: () => running,
      applyConfig: async (c, signal) => {
        if (c.location.address === "Hung Street 9") {
          steps.push("apply: begin");
          await new Promise((r) => signal!.addEventListener("abort", r, { once: true }));
          await new Promise((r) => setImmediate(r)); // still winding down after the abort
          steps.push("apply: abandoned");
          throw signal!.reason;
        }
        steps.push(`rollback to ${c.location.address}`);
        running = c;
      },
      applyTimeoutMs: 200,
      log: silent,
    });
    const report = await applier.apply({ bytes: configBytes(doc("Hung Street 9")), source: "test" });
    expect(steps).toEqual(["apply: begin", "apply: abandoned", "rollback to Old Square 1"]);
    expect(report).toMatchObject({ ok: false, code: "apply_failed", rolledBack: true });
  });

  it("runs two applies one after the other, each answered", async () => {
    const path = join(dir, "config.json");
    await writeConfig(path, doc("Old Square 1"));
    let running = validateConfig(doc("Old Square 1"));
    const steps: string[] = [];
    let release!: () => void;
    const firstMayFinish = new Promise<void>((r) => (release = r));
    const applier = new ConfigApplier({
      configPath: path,
      current: () => running,
      applyConfig: async (c) => {
        steps.push(`begin ${c.location.address}`);
        if (c.location.address === "First Street 1") await firstMayFinish;
        running = c;
        steps.push(`end ${c.location.address}`);
      },
      selfTest: async () => undefined,
      log: silent,
    });
    const first = applier.apply({ bytes: configBytes(doc("First Street 1")), source: "serial" });
    const second = applier.apply({ bytes: configBytes(doc("Second Street 2")), source: "mqtt" });
    await new Promise((r) => setImmediate(r));
    release();
    const reports = await Promise.all([first, second]);
    expect(reports.map((r) => r.ok)).toEqual([true, true]);
    expect(steps).toEqual([
      "begin First Street 1",
      "end First Street 1",
      "begin Second Street 2",
      "end Second Street 2",
    ]);
    expect(running.location.address).toBe("Second Street 2");
  });
});
