/**
 * A digital output line of the pillar: a status LED or the relay of the strobe/hooter.
 *
 * Contract (every driver: sim, firmata, gpio):
 * - The constructor does nothing; `start()` claims the line and drives it inactive.
 * - `write(on)` sets the logical level (after `activeLow`); it does not block the caller and
 *   never throws: a failure is reported to `onFault` listeners.
 * - `read()` returns the last level written.
 * - `stop()` drives the line inactive and releases it; idempotent, never throws.
 */
export interface DigitalOutput {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  write(on: boolean): void;
  read(): boolean;
  onFault(listener: (err: Error) => void): () => void;
}

/** Static description of an output line, from the config. */
export interface OutputLine {
  name: string;
  pin: number;
  activeLow: boolean;
}
