import type { PillarApp } from "../../app/pillar-app.js";
import type { EmbeddedBroker } from "../../broker/embedded-broker.js";

export interface RunContext {
  flags: Record<string, string | boolean | undefined>;
  configPath: string;
  broker?: EmbeddedBroker;
}

/**
 * Features that attach to a running pillar (call, provisioning…) add themselves here: each
 * gets the app before it starts and may `app.extend(...)` with its services.
 */
export async function runExtensions(app: PillarApp, ctx: RunContext): Promise<void> {
  void app;
  void ctx;
}
