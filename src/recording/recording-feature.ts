import { join } from "node:path";
import type { Microphone, Speaker } from "../../hal/audio.js";
import type { PillarApp } from "../app/pillar-app.js";
import type { CallDrivers, CallFeature } from "../call/call-feature.js";
import { moduleLogger } from "../log/logger.js";
import { clipCommands } from "./clip-commands.js";
import { ClipStore } from "./clip-store.js";
import { SharedMicrophone, TappedSpeaker } from "./media-taps.js";
import { Recorder } from "./recorder.js";
import { SnapshotService } from "./snapshot.js";

/** The services of the recording feature, for tests and the bench. */
export interface RecordingFeature {
  store: ClipStore;
  recorder: Recorder;
  snapshot: SnapshotService;
}

/** The store opens (and repairs) before the recorder starts writing. */
class StoreOpener {
  constructor(private readonly store: ClipStore) {}
  async start(): Promise<void> {
    await this.store.open();
  }
  async stop(): Promise<void> {}
}

/**
 * Recording on top of the call: wraps the call's microphone (shared, so the pre-roll has
 * sound) and speaker (tapped, so the officer's voice is recorded), then adds the clip store,
 * the recorder, the press snapshot, the clips.* commands and `GET /recording`.
 * Use: `callFeature({ audio: r.audio, onBuilt: r.onCall })` then `app.extend(r.extension)`.
 */
export function recordingFeature(o: { onBuilt?: (f: RecordingFeature) => void } = {}) {
  let mic: SharedMicrophone | undefined;
  let speaker: TappedSpeaker | undefined;
  let call: CallFeature | undefined;
  return {
    /** The call's audio devices, wrapped (a new pair at every build). */
    audio: (d: CallDrivers): { mic: Microphone; speaker: Speaker } => {
      mic = new SharedMicrophone(d.mic);
      speaker = new TappedSpeaker(d.speaker);
      return { mic, speaker };
    },
    onCall: (f: CallFeature) => {
      call = f;
    },
    extension: (app: PillarApp) => {
      if (!call || !mic || !speaker) return [];
      const c = app.config;
      const log = moduleLogger("record", app.log);
      const store = new ClipStore(join(c.dataDir, "recordings"), log);
      const feed = call.feed;
      const { width, height, fps } = call.drivers.camera.settings;
      const cameraSettings = { width, height, fps };
      const settings = () => app.config.record;
      const recorder = new Recorder({
        bus: app.bus,
        store,
        sources: { video: feed, mic, officer: speaker },
        holds: [feed, mic],
        settings,
        video: () => cameraSettings,
        log,
      });
      const snapshot = new SnapshotService({
        bus: app.bus,
        transport: app.uplink,
        framesUpTo: (at) => recorder.framesUpTo(at),
        pillarId: () => app.config.pillar.id,
        maxBytes: () => settings().snapshotMaxKb * 1024,
        log,
      });
      for (const def of clipCommands(store, recorder)) app.commands.register(def);
      app.control.route("GET", "/recording", () => ({ ...recorder.status(), clips: store.list() }));
      app.health.addSection("recording", () => recorder.health());
      o.onBuilt?.({ store, recorder, snapshot });
      return [new StoreOpener(store), recorder, snapshot];
    },
  };
}
