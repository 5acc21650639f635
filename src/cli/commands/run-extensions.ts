import type { PillarApp } from "../../app/pillar-app.js";
import type { EmbeddedBroker } from "../../broker/embedded-broker.js";
import { addCallFeature } from "../../call/call-extension.js";
import { provisionRun } from "../../provisioning/provisioning-extension.js";
import { SOFTWARE_VERSION } from "../version.js";

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
  await addCallFeature(app);
  const provisionPort = typeof ctx.flags["provision-port"] === "string" ? ctx.flags["provision-port"] : undefined;
  await provisionRun(app, { configPath: ctx.configPath, provisionPort, version: SOFTWARE_VERSION });
}
