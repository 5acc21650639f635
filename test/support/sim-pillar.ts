import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { PillarConfig } from "../../config/schema.js";
import { SimPillarIo } from "../../hal/sim/sim-pillar-io.js";
import { createDrivers, type DriverFactory } from "../../src/app/drivers.js";
import { PillarApp } from "../../src/app/pillar-app.js";
import { validateConfig } from "../../src/config/validate-config.js";
import { sleep } from "./wait.js";

/** A valid config document for tests; `over` is merged in one level deep. */
export function testConfigDoc(over: Record<string, unknown> = {}): Record<string, any> {
  const base: Record<string, any> = {
    version: 1,
    pillar: { id: "test-001" },
    location: { lat: 43.238, lon: 76.9452, address: "Republic Square 1", district: "Medeu" },
    broker: { url: "mqtt://127.0.0.1:1", reconnectMs: 200, connectTimeoutMs: 2000 },
    hal: {
      driver: "sim",
      inputs: { button: { pin: 17 }, tamper: { pin: 27 } },
      outputs: { ready: { pin: 5 }, alarm: { pin: 6 }, answered: { pin: 13 }, strobe: { pin: 26 } },
    },
    // A small picture: the sim camera is a real x264 encoder, and at 720p30 each running one
    // takes ~0.4 of a core from the files running beside it. Tests that need HD set it.
    call: { camera: { width: 640, height: 360, fps: 15, bitrateKbps: 600 } },
    dataDir: "/nonexistent",
    control: { port: 0 },
    heartbeat: { intervalS: 3600 },
    // No recording unless a test asks: the pre-roll would keep a camera encoder running in every test pillar.
    record: { mode: "off" },
  };
  for (const [k, v] of Object.entries(over)) {
    base[k] = v && typeof v === "object" && !Array.isArray(v) && base[k] ? { ...base[k], ...v } : v;
  }
  return base;
}

/** An in-process simulated pillar with its own data folder, silent logs. */
export class SimPillar {
  io = new SimPillarIo();
  app!: PillarApp;
  dataDir = "";
  config!: PillarConfig;

  constructor(private readonly over: Record<string, unknown> = {}) {}

  /** The config's drivers, with this pillar's own sim I/O (kept across rebuilds, so tests can press it). */
  readonly drivers: DriverFactory = async (config, log) => ({ ...(await createDrivers(config, log)), io: this.io });

  async start(brokerUrl: string, dataDir?: string): Promise<this> {
    this.dataDir = dataDir ?? (await mkdtemp(join(tmpdir(), "pillar-")));
    const doc = testConfigDoc({ dataDir: this.dataDir, ...this.over });
    doc.broker = { ...doc.broker, url: brokerUrl };
    this.config = validateConfig(doc, "test");
    this.app = new PillarApp({
      config: this.config,
      drivers: this.drivers,
      version: "0.0.0-test",
      log: pino({ level: process.env.TEST_LOG ?? "silent" }),
    });
    await this.app.start();
    return this;
  }

  /** Press and release with clean contacts, each level held `holdMs` (past the debounce window). */
  async click(holdMs = 40): Promise<void> {
    this.io.button.press();
    await sleep(holdMs);
    this.io.button.release();
    await sleep(holdMs);
  }

  async stop(): Promise<void> {
    await this.app?.stop();
  }

  async dispose(): Promise<void> {
    await this.stop();
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
