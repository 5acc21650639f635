import type { Logger } from "pino";
import type { CenterParts } from "./server/center-hooks.js";

/** Command-line flags the center's parts add to `pillar console` (node:util parseArgs options). */
export const partsFlags = {} as const satisfies Record<string, { type: "string" | "boolean" }>;

/** Usage lines for `partsFlags`. */
export const partsUsage: string[] = [];

/** What the center's parts need to start: the parsed `pillar console` flags and a logger. */
export interface CenterPartsContext {
  flags: Record<string, string | boolean | undefined>;
  log: Logger;
}

/**
 * Builds the center's other parts (accounts, incident log, report) and hands them to the
 * console server through the seams in server/center-hooks.ts. Each part adds its own lines here.
 */
export async function loadCenterParts(_ctx: CenterPartsContext): Promise<CenterParts> {
  return { routes: [], taps: [] };
}
