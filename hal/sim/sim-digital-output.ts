import type { DigitalOutput } from "../digital-output.js";
import { Listeners } from "../listeners.js";

/** Simulated output line: remembers its level and the time of each change, for tests and the demo. */
export class SimDigitalOutput implements DigitalOutput {
  private level = false;
  private changedAt = Date.now();
  private writes = 0;
  private readonly faults = new Listeners<[Error]>();

  constructor(readonly name: string) {}

  async start(): Promise<void> {
    this.write(false);
  }

  async stop(): Promise<void> {
    this.write(false);
  }

  write(on: boolean): void {
    this.writes++;
    if (on === this.level) return;
    this.level = on;
    this.changedAt = Date.now();
  }

  read(): boolean {
    return this.level;
  }

  onFault(l: (err: Error) => void): () => void {
    return this.faults.add(l);
  }

  /** Snapshot for `GET /sim/leds`. */
  snapshot(): { on: boolean; changedAt: string; writes: number } {
    return { on: this.level, changedAt: new Date(this.changedAt).toISOString(), writes: this.writes };
  }
}
