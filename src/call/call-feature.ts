import { Type } from "@sinclair/typebox";
import type { Microphone, Speaker } from "../../hal/audio.js";
import { createAudio } from "../../hal/audio-factory.js";
import type { Camera } from "../../hal/camera.js";
import { createCamera } from "../../hal/camera-factory.js";
import { SimMicrophone } from "../../hal/sim/sim-mic.js";
import { SimSpeaker } from "../../hal/sim/sim-speaker.js";
import { SimCamera } from "../../hal/sim/sim-camera.js";
import type { PillarApp } from "../app/pillar-app.js";
import { CommandFailure, type CommandDef } from "../commands/command-service.js";
import { freshnessOf } from "../commands/freshness.js";
import type { ControlServer } from "../control/control-server.js";
import { moduleLogger } from "../log/logger.js";
import { CallService } from "./call-service.js";
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
      if (!call.mayControl(a.sessionId, a.callToken))
        throw new CommandFailure("not_owner", "during a call only the console that answered it may change the volume");
      return call.setVolumes({
        ...(a.speaker !== undefined ? { speaker: a.speaker } : {}),
        ...(a.micGainDb !== undefined ? { micGainDb: a.micGainDb } : {}),
      });
    },
  };
  return [volume as unknown as CommandDef];
}

/** Control routes: `GET /call` everywhere; the simulated devices' hooks under /sim/. */
export function addCallRoutes(control: ControlServer, f: CallFeature): void {
  const { camera, mic, speaker } = f.drivers;
  control.route("GET", "/call", () => ({
    session: f.call.snapshot(),
    volumes: f.call.currentVolumes(),
    camera: { driver: camera.driver, status: f.feed.status(), pid: camera.pid() ?? null, gop: f.feed.gop.size },
    mic: { driver: mic.driver, pid: mic.pid() ?? null },
    speaker: { driver: speaker.driver, pid: speaker.pid() ?? null },
  }));
  if (camera instanceof SimCamera) {
    for (const scene of ["black", "frozen", "live"] as const) {
      control.route("POST", `/sim/camera/${scene}`, async () => (await camera.setScene(scene), { camera: scene }));
    }
    control.route("POST", "/sim/camera/kill", () => ({ killed: camera.kill() ?? null }));
  }
  if (mic instanceof SimMicrophone) {
    control.route("POST", "/sim/mic/deaf", async () => (await mic.deafen(true), { mic: "deaf" }));
    control.route("POST", "/sim/mic/hear", async () => (await mic.deafen(false), { mic: "hearing" }));
  }
  if (speaker instanceof SimSpeaker) {
    control.route("GET", "/sim/speaker", (_req, _body, url) => {
      const since = Number(url.searchParams.get("since") ?? 0);
      return {
        loudestDbfs: speaker.loudestSince(since),
        played: speaker.played,
        samples: speaker.samples,
        beeps: speaker.beeps,
        recent: speaker.levels.slice(-20),
      };
    });
  }
}

/**
 * Adds the call to a PillarApp: `app.extend(callFeature())`. Builds the drivers from the config
 * (or takes them), the camera feed and the call service, registers `call.volume` and the
 * control routes. `onBuilt` hands the services to tests and the bench.
 */
export function callFeature(
  o: {
    drivers?: CallDrivers;
    onBuilt?: (f: CallFeature) => void;
    /** The audio devices the call uses, wrapped by another feature (recording: shared mic, tapped speaker). */
    audio?: (d: CallDrivers) => { mic: Microphone; speaker: Speaker };
  } = {},
) {
  return (app: PillarApp) => {
    const c = app.config;
    const drivers = o.drivers ?? {
      camera: createCamera(c, moduleLogger("camera", app.log)),
      ...createAudio(c, moduleLogger("audio", app.log)),
    };
    const feed = new CameraFeed({
      camera: drivers.camera,
      bus: app.bus,
      log: moduleLogger("camera-feed", app.log),
      mode: () => app.config.call.camera.mode,
    });
    const audio = o.audio?.(drivers) ?? drivers;
    const call = new CallService({
      bus: app.bus,
      transport: app.uplink,
      camera: feed,
      mic: audio.mic,
      speaker: audio.speaker,
      settings: () => app.config.call,
      pillarId: () => app.config.pillar.id,
      freshness: () => freshnessOf(app.config),
      log: moduleLogger("call", app.log),
    });
    for (const def of callCommands(call)) app.commands.register(def);
    const feature = { drivers, feed, call };
    addCallRoutes(app.control, feature);
    o.onBuilt?.(feature);
    return [feed, call];
  };
}
