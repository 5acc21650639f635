import type { Logger } from "pino";
import type { PillarConfig } from "../../config/schema.js";
import type { Drivers } from "../app/drivers.js";
import type { PillarBus } from "../bus/events.js";
import type { FaultRegistry } from "../faults/fault-registry.js";
import type { IncidentController } from "../incident/incident-controller.js";
import type { LedService } from "../leds/led-service.js";
import type { MqttUplink } from "../uplink/mqtt-uplink.js";
import type { CameraCapture } from "./camera/frame-grab.js";
import type { ReferenceStore } from "./camera/reference.js";

export type CheckStatus = "pass" | "fail" | "skip";

/** What one check found: its status, the value it measured, and a sentence a person understands. */
export interface CheckOutcome {
  status: CheckStatus;
  /** The measured value (a level, a time, a count…), when there is one. */
  value?: number | string | boolean | null;
  unit?: string;
  /** Why it passed, failed or was skipped, in words (a failure says what is wrong). */
  detail: string;
  /** Further measurements, kept in the report. */
  data?: Record<string, unknown>;
}

/** One line of the report. */
export interface CheckResult extends CheckOutcome {
  id: string;
  component: string;
  title: string;
  required: boolean;
  ms: number;
}

/** A question for the installer on site. */
export interface Prompt {
  /** "confirm": a yes/no answer; "action": do something (press the button) — no answer needed. */
  kind: "confirm" | "action";
  text: string;
  timeoutMs: number;
}

/** How a check talks to the installer (the CLI in a terminal; nobody when non-interactive). */
export interface Prompter {
  /** Shows the prompt; resolves with the answer (true = yes), or false when it timed out or was cancelled. */
  ask(p: Prompt, done?: Promise<unknown>): Promise<boolean>;
  info(text: string): void;
}

/** What a check may use. A fresh one per run: memoized captures are this run's. */
export interface CheckContext {
  config: PillarConfig;
  drivers: Drivers;
  bus: PillarBus;
  uplink: MqttUplink;
  incidents: IncidentController;
  faults: FaultRegistry;
  leds: LedService;
  dataDir: string;
  version: string;
  interactive: boolean;
  prompter: Prompter;
  /** The camera's frames, grabbed once per run (every camera check reads the same capture). */
  camera(): Promise<CameraCapture>;
  reference: ReferenceStore;
  /** True while a call (or an open incident) owns the camera and audio. */
  busy(): boolean;
  signal: AbortSignal;
  log: Logger;
}

/** One check of the pillar. */
export interface Check {
  /** Unique, dotted: "storage.write", "camera.black". `--only` takes ids or components. */
  id: string;
  /** The part of the pillar it proves: the fault's component and the health section's key. */
  component: string;
  title: string;
  /** A failure makes the self-test fail (exit code 1). */
  required: boolean;
  /** Needs the installer (a press, a look at the LEDs): skipped when non-interactive. */
  interactive?: boolean;
  run(ctx: CheckContext): Promise<CheckOutcome>;
}

export const pass = (detail: string, value?: CheckOutcome["value"], unit?: string, data?: Record<string, unknown>) =>
  ({ status: "pass", detail, value, unit, data }) satisfies CheckOutcome;
export const fail = (detail: string, value?: CheckOutcome["value"], unit?: string, data?: Record<string, unknown>) =>
  ({ status: "fail", detail, value, unit, data }) satisfies CheckOutcome;
export const skip = (detail: string) => ({ status: "skip", detail }) satisfies CheckOutcome;

/** Resolves true when `p` settles within `ms`, false after (the timer is cleared either way). */
export async function within(p: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
    signal?.addEventListener("abort", () => r(false), { once: true });
  });
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Round for a report (a measured value never needs more). */
export const round = (v: number, digits = 1) => (Number.isFinite(v) ? Math.round(v * 10 ** digits) / 10 ** digits : v);
