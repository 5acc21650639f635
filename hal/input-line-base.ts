import type { DigitalInput } from "./digital-input.js";
import { Listeners } from "./listeners.js";

/** What every input driver shares: the last level and the three listener sets of the contract. */
export abstract class InputLineBase implements DigitalInput {
  abstract readonly name: string;
  protected level = false;
  protected readonly changes = new Listeners<[boolean, number]>();
  protected readonly faults = new Listeners<[Error]>();
  protected readonly recovers = new Listeners<[]>();

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  read(): boolean {
    return this.level;
  }

  onChange(l: (active: boolean, at: number) => void): () => void {
    return this.changes.add(l);
  }

  onFault(l: (err: Error) => void): () => void {
    return this.faults.add(l);
  }

  onRecover(l: () => void): () => void {
    return this.recovers.add(l);
  }
}
