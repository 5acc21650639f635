import type { DigitalInput } from "./digital-input.js";
import type { DigitalOutput } from "./digital-output.js";
import type { SimControl } from "./sim-controls.js";

/** The names of the pillar's output lines. */
export type OutputName = "ready" | "alarm" | "answered" | "strobe";

/**
 * The discrete I/O of one pillar, as one driver family builds it (they often share one
 * connection, e.g. a Firmata co-processor). Created by the composition root from the config and
 * handed to the services; services never import a driver.
 */
export interface PillarIo {
  readonly driver: string;
  readonly button: DigitalInput;
  readonly tamper: DigitalInput;
  readonly outputs: Readonly<Record<OutputName, DigitalOutput>>;
  /**
   * Opens the shared connection (if any), then starts every output (each driven inactive) and
   * only after all of them the inputs: no input edge can reach a service before every output is
   * in a known, inactive state. The same order in every driver (test/hal/io-contract.test.ts).
   */
  start(): Promise<void>;
  /**
   * The reverse: stops the inputs, then the outputs (each left inactive), then the shared
   * connection. Idempotent, never throws.
   */
  stop(): Promise<void>;
  /**
   * Whether the serial co-processor of a driver that has one (Firmata) answers: its link
   * heartbeat. Drivers without one (gpio) leave it out.
   */
  probeLink?(): { ok: boolean; detail: string };
  /** Test and demo hooks of a simulated driver (mounted under `/sim/`); real drivers have none. */
  simControls?(): SimControl[];
}

export const OUTPUT_NAMES: readonly OutputName[] = ["ready", "alarm", "answered", "strobe"];
