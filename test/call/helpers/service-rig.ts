import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { pino } from "pino";
import { SimMicrophone } from "../../../hal/sim/sim-mic.js";
import { SimSpeaker } from "../../../hal/sim/sim-speaker.js";
import { SimCamera } from "../../../hal/sim/sim-camera.js";
import { createBus, type PillarBus } from "../../../src/bus/events.js";
import { CallService } from "../../../src/call/call-service.js";
import { CallerAudio, type PromptSettings } from "../../../src/call/caller-audio.js";
import type { CallSettings } from "../../../src/call/call-session.js";
import { callCommands } from "../../../src/call/call-feature.js";
import { CameraFeed } from "../../../src/call/camera-feed.js";
import { CommandService } from "../../../src/commands/command-service.js";
import { MqttUplink } from "../../../src/uplink/mqtt-uplink.js";
import { PeerSession } from "../../../src/call/peer-session.js";
import { TestMosquitto } from "../../support/mosquitto.js";
import { pidAlive } from "../../support/processes.js";
import { NodeOfficer } from "./node-officer.js";
import { waitFor } from "../../support/wait.js";

/**
 * The call service alone (no PillarApp): real MQTT uplink, sim camera/mic/speaker, and
 * settings a test may change (short limits that the config schema would refuse). Log lines are
 * kept in `logs` for assertions.
 */
export class CallServiceRig {
  readonly logs: Record<string, any>[] = [];
  readonly log = pino(
    { level: "debug" },
    new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        for (const line of chunk.toString().split("\n")) if (line) this.logs.push(JSON.parse(line));
        cb();
      },
    }),
  );
  bus: PillarBus = createBus();
  uplink!: MqttUplink;
  camera = new SimCamera({ width: 320, height: 180, fps: 10, bitrateKbps: 300, rotation: 0 }, "pillar-sig");
  mic = new SimMicrophone({ bitrateKbps: 24, gainDb: 0 });
  speaker = new SimSpeaker({ volume: 80 });
  feed!: CameraFeed;
  call!: CallService;
  prompts!: CallerAudio;
  commands!: CommandService;
  promptSettings: PromptSettings = { languages: ["kk", "ru"] };
  settings: CallSettings = {
    enabled: true,
    callLimitS: 600,
    warningBeforeEndS: 30,
    answerTimeoutS: 30,
    iceServers: [],
    bindAddress: "127.0.0.1",
    volumes: { speaker: 80, micGainDb: 0 },
  };

  constructor(readonly pillarId = "pillar-sig") {}

  async start(brokerUrl: string): Promise<this> {
    this.uplink = new MqttUplink({
      pillarId: this.pillarId,
      settings: {
        url: brokerUrl,
        clientId: `pillar-${this.pillarId}`,
        keepaliveS: 30,
        connectTimeoutMs: 2000,
        reconnectMs: 200,
      },
      version: "test",
      bus: this.bus,
      log: this.log.child({ module: "uplink" }),
    });
    this.feed = new CameraFeed({
      camera: this.camera,
      bus: this.bus,
      log: this.log.child({ module: "camera-feed" }),
      mode: () => "onDemand",
    });
    this.prompts = new CallerAudio({
      bus: this.bus,
      speaker: this.speaker,
      settings: () => this.promptSettings,
      log: this.log.child({ module: "prompts" }),
    });
    this.call = new CallService({
      bus: this.bus,
      transport: this.uplink,
      camera: this.feed,
      mic: this.mic,
      speaker: this.speaker,
      settings: () => this.settings,
      pillarId: () => this.pillarId,
      log: this.log.child({ module: "call" }),
      prompts: this.prompts,
    });
    this.commands = new CommandService({ transport: this.uplink, log: this.log.child({ module: "commands" }) });
    for (const def of callCommands(this.call)) this.commands.register(def);
    await this.feed.start();
    await this.prompts.start();
    await this.call.start();
    await this.commands.start();
    await this.uplink.start();
    await waitFor(() => this.uplink.isConnected(), "uplink connected");
    return this;
  }

  alarm(incidentId: string): void {
    this.bus.emit("incident.state", { state: "alarm", incidentId, at: Date.now() });
  }

  idle(): void {
    this.bus.emit("incident.state", { state: "idle", incidentId: null, at: Date.now() });
  }

  /** Every ffmpeg this rig's drivers run now. */
  pids(): number[] {
    return [this.camera.pid(), this.mic.pid(), this.speaker.pid()].filter((p): p is number => !!p);
  }

  async stop(): Promise<void> {
    await this.commands?.stop();
    await this.call?.stop();
    await this.prompts?.stop();
    await this.feed?.stop();
    await this.uplink?.stop();
  }
}

/**
 * A describe block's call-service tests on one Mosquitto: `start(pillarId)` makes the test's rig,
 * `officer(name, autoAnswer)` a Node officer; after each test the officers and the rig are stopped
 * and nothing is left (no ffmpeg of the rig, no peer connection).
 */
export function withCallServiceRig(): {
  mosq: TestMosquitto;
  rig: () => CallServiceRig;
  start(pillarId: string): Promise<CallServiceRig>;
  officer(name: string, autoAnswer: boolean): Promise<NodeOfficer>;
  officers: NodeOfficer[];
} {
  const mosq = new TestMosquitto();
  let rig: CallServiceRig | undefined;
  const officers: NodeOfficer[] = [];
  beforeAll(async () => {
    await mosq.start();
  });
  afterAll(async () => {
    await mosq.dispose();
  });
  afterEach(async () => {
    for (const o of officers.splice(0)) await o.stop();
    const pids = rig?.pids() ?? [];
    await rig?.stop();
    rig = undefined;
    for (const p of pids) expect(pidAlive(p)).toBe(false);
    expect(PeerSession.open).toBe(0);
  });
  return {
    mosq,
    officers,
    rig: () => rig!,
    async start(pillarId) {
      rig = await new CallServiceRig(pillarId).start(mosq.url);
      return rig;
    },
    async officer(name, autoAnswer) {
      const o = await new NodeOfficer(name, mosq.url, rig!.pillarId, autoAnswer).start();
      officers.push(o);
      return o;
    },
  };
}
