/**
 * A digital input line of the pillar: the SOS button contact or the tamper switch.
 *
 * Contract (every driver: sim, firmata, gpio):
 * - The constructor does nothing; `start()` opens the line and resolves once the first level
 *   is known, or rejects with an error that names the line and the reason.
 * - Levels are logical: `true` means active (button pressed, tamper open), after applying the
 *   line's `activeLow` wiring. No debouncing happens here: every raw edge is reported.
 * - `onChange` listeners get each raw edge with its wall-clock time in ms (`Date.now()` scale),
 *   taken as close to the hardware as the driver can.
 * - `onFault` listeners hear about a line that stopped working after start (co-processor link
 *   lost, gpiomon died). The driver may recover by itself; it says so with `onRecover`.
 * - `stop()` releases the line; it is idempotent and never throws.
 */
export interface DigitalInput {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The last known logical level. */
  read(): boolean;
  onChange(listener: (active: boolean, at: number) => void): () => void;
  onFault(listener: (err: Error) => void): () => void;
  onRecover(listener: () => void): () => void;
}

/** Static description of an input line, from the config. */
export interface InputLine {
  name: string;
  pin: number;
  activeLow: boolean;
}
