import { TypedBus } from "./event-bus.js";
import type { Logger } from "pino";

/** Names of the pillar's digital inputs. */
export type InputName = "button" | "tamper";

/** A fault raised by a component; cleared later with the same component+code. */
export interface Fault {
  component: string;
  code: string;
  message: string;
  at: number;
}

/**
 * Every event on the pillar's internal bus. Later features add their own with declaration
 * merging: `declare module "../bus/events.js" { interface BusEvents { "call.started": {...} } }`.
 */
export interface BusEvents {
  /** Raw (un-debounced) edge from a HAL input; `active` is logical (pressed / tamper open). */
  "input.edge": { input: InputName; active: boolean; at: number };
  /** The button was pressed (debounced). `at` is the wall-clock time of the surviving edge. */
  "button.pressed": { at: number; confirmedAt: number };
  "button.released": { at: number; heldMs: number };
  "button.stuck": { at: number; heldMs: number };
  "button.recovered": { at: number; heldMs: number };
  "tamper.changed": { open: boolean; at: number };
  "fault.raised": Fault;
  /** `message` may say what the fault cost (e.g. what a damaged journal lost). */
  "fault.cleared": { component: string; code: string; at: number; message?: string };
  /** `test`: the incident of a press the self-test asked for (no call, no alarm at the center). */
  "incident.state": { state: IncidentState; incidentId: string | null; at: number; test?: boolean };
  /** A press counted on the open incident (the first one too, after its `incident.state`). */
  "incident.press": { incidentId: string; press: number; at: number; test?: boolean };
  "uplink.connected": { at: number };
  "uplink.disconnected": { at: number; reason?: string };
  "outbox.changed": { depth: number; bytes: number };
}

export type IncidentState = "idle" | "alarm" | "acknowledged";

export type PillarBus = TypedBus<BusEvents>;

export function createBus(log?: Logger): PillarBus {
  return new TypedBus<BusEvents>(log);
}
