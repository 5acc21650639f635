import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import type { PillarConfig } from "../../../config/schema.js";
import { SimPillarIo } from "../../../hal/sim/sim-pillar-io.js";
import type { SimCamera } from "../../../hal/sim/sim-camera.js";
import type { SimMicrophone } from "../../../hal/sim/sim-mic.js";
import type { SimSpeaker } from "../../../hal/sim/sim-speaker.js";
import { PillarApp } from "../../../src/app/pillar-app.js";
import { createDrivers } from "../../../src/app/drivers.js";
import { callFeature, type CallFeature } from "../../../src/call/call-feature.js";
import { validateConfig } from "../../../src/config/validate-config.js";
import { ConsoleServer } from "../../../center/server/console-server.js";
import { testConfigDoc } from "../../support/sim-pillar.js";
import { TestMosquitto } from "../../support/mosquitto.js";
import { sleep, waitFor } from "../../support/wait.js";

export const silent = pino({ level: process.env.TEST_LOG ?? "silent" });
export const OUTPUT_DIR = join(process.cwd(), "test-output");

/** A known officer voice for Chromium's fake microphone (flite speech, 48 kHz mono). */
export async function officerVoiceWav(): Promise<string> {
  await mkdir(OUTPUT_DIR, { recursive: true });
  const file = join(OUTPUT_DIR, "officer-voice.wav");
  const text = "Police control center. Help is on the way. Please stay where you are.";
  await promisify(execFile)("ffmpeg", [
    "-hide_banner",
    "-loglevel",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    `flite=text='${text}':voice=slt`,
    "-af",
    "aresample=48000,apad=pad_dur=0.5",
    "-ac",
    "1",
    "-c:a",
    "pcm_s16le",
    file,
  ]);
  return file;
}

/**
 * A simulated pillar (PillarApp with the call feature and the sim camera/mic/speaker), a real
 * Mosquitto on a free port, and the operator console bridging it. Everything on 127.0.0.1.
 */
export class CallRig {
  mosq = new TestMosquitto();
  io = new SimPillarIo();
  app!: PillarApp;
  feature!: CallFeature;
  console!: ConsoleServer;
  config!: PillarConfig;
  private dataDir = "";

  constructor(
    private readonly callOver: Record<string, unknown> = {},
    private readonly pillarId = "pillar-e2e",
  ) {}

  get camera(): SimCamera {
    return this.feature.drivers.camera as SimCamera;
  }
  get mic(): SimMicrophone {
    return this.feature.drivers.mic as SimMicrophone;
  }
  get speaker(): SimSpeaker {
    return this.feature.drivers.speaker as SimSpeaker;
  }
  get controlUrl(): string {
    return `http://127.0.0.1:${this.app.core.control.port}`;
  }

  async start(): Promise<this> {
    await this.mosq.start();
    this.dataDir = await mkdtemp(join(tmpdir(), "pillar-call-"));
    const doc = testConfigDoc({
      pillar: { id: this.pillarId },
      dataDir: this.dataDir,
      call: {
        bindAddress: "127.0.0.1",
        camera: { width: 640, height: 360, fps: 15, bitrateKbps: 600 },
        ...this.callOver,
      },
    });
    doc.broker = { ...doc.broker, url: this.mosq.url };
    this.config = validateConfig(doc, "test");
    this.app = new PillarApp({
      config: this.config,
      drivers: async (config, log) => ({ ...(await createDrivers(config, log)), io: this.io }),
      features: [callFeature({ onBuilt: (f) => (this.feature = f) })],
      version: "0.0.0-test",
      log: silent,
    });
    await this.app.start();
    await waitFor(() => this.app.core.uplink.isConnected(), "pillar connected");
    this.console = new ConsoleServer({
      brokerUrl: this.mosq.url,
      port: 0,
      simControlUrl: this.controlUrl,
      log: silent,
    });
    await this.console.start();
    return this;
  }

  /** Press and release the simulated button through the control endpoint (as the page does). */
  async press(): Promise<number> {
    const at = Date.now();
    await fetch(`${this.controlUrl}/sim/button/press`, { method: "POST" });
    await sleep(60);
    await fetch(`${this.controlUrl}/sim/button/release`, { method: "POST" });
    return at;
  }

  /** Acknowledge and close the open incident (as the center would), back to idle. */
  async closeIncident(): Promise<void> {
    const id = this.app.core.incidents.snapshot().incidentId;
    if (!id) return;
    const cmd = this.app.core.commands;
    const ack = await cmd.execute("incident.ack", JSON.stringify({ correlationId: "t-ack", incidentId: id }));
    const close = await cmd.execute("incident.close", JSON.stringify({ correlationId: "t-close", incidentId: id }));
    if (!close.ok) throw new Error(`could not close the incident: ${JSON.stringify([ack, close])}`);
  }

  async stop(): Promise<void> {
    await this.console?.stop();
    await this.app?.stop();
    await this.mosq.dispose();
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
