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
    app.extend(callFeature());
    return true;
  } catch (err) {
    moduleLogger("call", app.log).error(
      { err: (err as Error).message },
      "call feature unavailable: running without video and audio calls",
    );
    return false;
  }
}
