import { join } from "node:path";
import type { Microphone, Speaker } from "../../hal/audio.js";
import type { Feature } from "../app/feature.js";
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
 * Use: `callFeature({ audio: r.audio, onBuilt: r.onCall })`, then `r.feature` after the call
 * (src/app/compose-pillar.ts).
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
    feature: {
      name: "recording",
      attach(core) {
        if (!call || !mic || !speaker) return [];
        const log = moduleLogger("record", core.log);
        const store = new ClipStore(join(core.dataDir, "recordings"), log);
        const feed = call.feed;
        const { width, height, fps } = call.drivers.camera.settings;
        const cameraSettings = { width, height, fps };
        const settings = () => core.config.get().record;
        const recorder = new Recorder({
          bus: core.bus,
          store,
          sources: { video: feed, mic, officer: speaker },
          holds: [feed, mic],
          settings,
          video: () => cameraSettings,
          log,
        });
        const snapshot = new SnapshotService({
          bus: core.bus,
          transport: core.uplink,
          framesUpTo: (at) => recorder.framesUpTo(at),
          pillarId: () => core.config.get().pillar.id,
          maxBytes: () => settings().snapshotMaxKb * 1024,
          log,
        });
        for (const def of clipCommands(store, recorder)) core.commands.register(def);
        core.control.route("GET", "/recording", () => ({ ...recorder.status(), clips: store.list() }));
        core.health.addSection("recording", () => recorder.health());
        o.onBuilt?.({ store, recorder, snapshot });
        return [new StoreOpener(store), recorder, snapshot];
      },
    } satisfies Feature,
  };
}
