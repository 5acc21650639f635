import { pino } from "pino";
import { Listeners } from "../../../hal/listeners.js";
import type { PillarBus } from "../../../src/bus/events.js";
import type { ClipStore } from "../../../src/recording/clip-store.js";
import { type RecordSettings, Recorder } from "../../../src/recording/recorder.js";

/** The media a test feeds the recorder by hand: emit an RTP packet and the recorder takes it. */
export interface HandFedMedia {
  video: Listeners<[Buffer]>;
  mic: Listeners<[Buffer]>;
  officer: Listeners<[Buffer]>;
}

/**
 * A started Recorder fed by hand on a simulated clock (no wall time, no holds, silent log),
 * the way the quota test, the slow-disk test and the record bench drive one. `media` may be
 * the test's own listeners (a simulated run that emits into them); by default new ones.
 */
export async function startSimRecorder(o: {
  bus: PillarBus;
  store: ClipStore;
  settings: RecordSettings;
  video: { width: number; height: number; fps: number };
  now: () => number;
  media?: HandFedMedia;
}): Promise<{ recorder: Recorder; media: HandFedMedia }> {
  const media = o.media ?? { video: new Listeners(), mic: new Listeners(), officer: new Listeners() };
  const recorder = new Recorder({
    bus: o.bus,
    store: o.store,
    sources: {
      video: { onPacket: (l) => media.video.add(l) },
      mic: { onRtp: (l) => media.mic.add(l) },
      officer: { onPlay: (l) => media.officer.add(l) },
    },
    holds: [],
    settings: () => o.settings,
    video: () => o.video,
    log: pino({ level: "silent" }),
    now: o.now,
  });
  await recorder.start();
  return { recorder, media };
}
