import { Type } from "@sinclair/typebox";
import type { Microphone, Speaker } from "../../hal/audio.js";
import type { Camera } from "../../hal/camera.js";
import type { Feature } from "../app/feature.js";
import { CommandFailure, type CommandDef } from "../commands/command-service.js";
import { freshnessOf } from "../commands/freshness.js";
import type { ControlServer } from "../control/control-server.js";
import { moduleLogger } from "../log/logger.js";
import { CallService } from "./call-service.js";
import { CallerAudio } from "./caller-audio.js";
import { CameraFeed } from "./camera-feed.js";

export interface CallDrivers {
  camera: Camera;
  mic: Microphone;
  speaker: Speaker;
}

/** The services of the call feature, for tests and the bench. */
export interface CallFeature {
  drivers: CallDrivers;
  feed: CameraFeed;
  call: CallService;
  prompts: CallerAudio;
}

/** The `call.volume` command: speaker percent and/or microphone gain, applied at once. */
export function callCommands(call: CallService): CommandDef[] {
  const args = {
    speaker: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    micGainDb: Type.Optional(Type.Integer({ minimum: -20, maximum: 30 })),
    sessionId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    callToken: Type.Optional(Type.String({ minLength: 16, maxLength: 128 })),
  };
  const volume: CommandDef<typeof args> = {
    name: "call.volume",
    description:
      "set the speaker volume (0..100 %) and/or the microphone gain (-20..30 dB); during a call: with its sessionId and callToken",
    args,
    handle: (a) => {
      if (!call.volumes.mayControl(a.sessionId, a.callToken))
        throw new CommandFailure("not_owner", "during a call only the console that answered it may change the volume");
      return call.volumes.set({
        ...(a.speaker !== undefined ? { speaker: a.speaker } : {}),
        ...(a.micGainDb !== undefined ? { micGainDb: a.micGainDb } : {}),
      });
    },
  };
  return [volume as unknown as CommandDef];
}

/** `GET /call`: the session, the volumes and the devices (the sim hooks come from the drivers). */
export function addCallRoutes(control: ControlServer, f: CallFeature): void {
  const { camera, mic, speaker } = f.drivers;
  control.route("GET", "/call", () => ({
    session: f.call.snapshot(),
    volumes: f.call.volumes.current(),
    camera: { driver: camera.driver, status: f.feed.status(), pid: camera.pid() ?? null, gop: f.feed.gop.size },
    mic: { driver: mic.driver, pid: mic.pid() ?? null },
    speaker: { driver: speaker.driver, pid: speaker.pid() ?? null, promptPackets: f.prompts.packetsSent },
  }));
}

/**
 * The call: the camera feed and the call service on the core's camera, microphone and speaker,
 * the `call.volume` command and `GET /call`. Off when `call.enabled` is false. `onBuilt` hands
 * each generation's services to tests and the bench.
 */
export function callFeature(
  o: {
    onBuilt?: (f: CallFeature) => void;
    /** The audio devices the call uses, wrapped by another feature (recording: shared mic, tapped speaker). */
    audio?: (d: CallDrivers) => { mic: Microphone; speaker: Speaker };
  } = {},
): Feature {
  return {
    name: "call",
    attach(core) {
      if (!core.config.get().call.enabled) return [];
      const { camera } = core.drivers;
      const { mic, speaker } = o.audio?.(core.drivers) ?? core.drivers;
      const feed = new CameraFeed({
        camera,
        bus: core.bus,
        log: moduleLogger("camera-feed", core.log),
        mode: () => core.config.get().call.camera.mode,
      });
      // the prompts go to the driver's speaker: they are not the officer's voice (nor recorded as it)
      const prompts = new CallerAudio({
        bus: core.bus,
        speaker: core.drivers.speaker,
        settings: () => core.config.get().prompts,
        log: moduleLogger("prompts", core.log),
      });
      const call = new CallService({
        bus: core.bus,
        transport: core.uplink,
        camera: feed,
        mic,
        speaker,
        settings: () => core.config.get().call,
        pillarId: () => core.config.get().pillar.id,
        freshness: () => freshnessOf(core.config.get()),
        log: moduleLogger("call", core.log),
        prompts,
      });
      for (const def of callCommands(call)) core.commands.register(def);
      const feature = {
        drivers: { camera, mic: core.drivers.mic, speaker: core.drivers.speaker },
        feed,
        call,
        prompts,
      };
      addCallRoutes(core.control, feature);
      o.onBuilt?.(feature);
      return [feed, prompts, call];
    },
  };
}
