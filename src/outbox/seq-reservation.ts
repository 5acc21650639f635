import { readFile } from "node:fs/promises";
import { atomicWriteFile, atomicWriteFileSync } from "../fsutil/atomic-write.js";

/** What the reservation file held when it was read. */
export interface ReservationRead {
  /** Every seq below this may have been handed out (0: no file yet). */
  reservedBelow: number;
  /** The file existed but did not hold a valid reservation. */
  damaged: boolean;
}

const MAX_FILE = 256;

/**
 * The outbox's seq high-water mark: a tiny fsync'd file saying "every seq below N may have
 * been used". Seqs are reserved in blocks ahead of use, so the file is written once per block,
 * not once per message. Because it lives apart from the journal, a torn, truncated, emptied or
 * deleted journal still cannot make seq go back below a number that may have been sent. A clean
 * close writes the exact next seq, so a normal restart leaves no gap.
 */
export class SeqReservation {
  private reservedBelow = 0;

  constructor(
    readonly path: string,
    private readonly block: number,
  ) {}

  async read(): Promise<ReservationRead> {
    let text: string;
    try {
      const buf = await readFile(this.path);
      if (buf.length > MAX_FILE) return { reservedBelow: 0, damaged: true };
      text = buf.toString("utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { reservedBelow: 0, damaged: false };
      throw err;
    }
    try {
      const v = JSON.parse(text) as { reservedBelow?: unknown };
      const n = v?.reservedBelow;
      if (typeof n === "number" && Number.isSafeInteger(n) && n >= 1) return { reservedBelow: n, damaged: false };
    } catch {
      // falls through: damaged
    }
    return { reservedBelow: 0, damaged: true };
  }

  /** Reserve a block starting at `next` (awaited once at open). */
  async reserveFrom(next: number): Promise<void> {
    const below = next + this.block;
    await atomicWriteFile(this.path, `${JSON.stringify({ reservedBelow: below })}\n`);
    this.reservedBelow = below;
  }

  /**
   * Called before `seq` is handed out: when it is not yet covered, a new block is made durable
   * first (synchronously: the caller publishes the seq right after).
   */
  cover(seq: number): void {
    if (seq < this.reservedBelow) return;
    const below = seq + this.block;
    atomicWriteFileSync(this.path, `${JSON.stringify({ reservedBelow: below })}\n`);
    this.reservedBelow = below;
  }

  /** After a clean close: nothing at or above `next` was handed out. */
  async release(next: number): Promise<void> {
    await atomicWriteFile(this.path, `${JSON.stringify({ reservedBelow: next })}\n`);
    this.reservedBelow = next;
  }
}
