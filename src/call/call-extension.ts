import type { PillarApp } from "../app/pillar-app.js";
import { moduleLogger } from "../log/logger.js";

/**
 * Adds the call feature to `pillar run`. Loaded lazily and guarded: if the WebRTC native module
 * (node-datachannel) cannot load on this machine, the pillar still runs — button, LEDs and
 * events do not depend on the call — and says so in its log.
 */
export async function addCallFeature(app: PillarApp): Promise<boolean> {
  if (!app.config.call.enabled) return false;
  try {
    const { callFeature } = await import("./call-feature.js");
    if (app.config.record.mode === "off") app.extend(callFeature());
    else {
      // Recording reuses the call's streams: it wraps its audio devices and attaches after it.
      const { recordingFeature } = await import("../recording/recording-feature.js");
      const rec = recordingFeature();
      app.extend(callFeature({ audio: rec.audio, onBuilt: rec.onCall }));
      app.extend(rec.extension);
    }
    return true;
  } catch (err) {
    moduleLogger("call", app.log).error(
      { err: (err as Error).message },
      "call feature unavailable: running without video and audio calls",
    );
    return false;
  }
}
