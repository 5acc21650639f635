import { mkdir, open, readFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { atomicWriteFile } from "../fsutil/atomic-write.js";
import { decodeJournal, encodeRecord, type JournalMessage, type JournalRecord } from "./journal-codec.js";
import { SeqReservation } from "./seq-reservation.js";

interface QueuedWrite {
  buf: Buffer;
  sync: boolean;
  done: () => void;
  fail: (err: Error) => void;
}

export interface JournalOptions {
  dir: string;
  /** Compact once the file is larger than this and less than half of it is still pending. */
  compactBytes: number;
  /** The pillar's own topic prefix (`pillar/v1/{id}/`): a record aimed elsewhere is never replayed. */
  topicPrefix: string;
  /** Seqs reserved per write of the high-water mark file (default 1000). */
  seqBlock?: number;
  log: Logger;
}

/** What was found damaged when the journal was opened (and so skipped). */
export interface JournalDamage {
  damagedBytes: number;
  damagedRegions: number;
  /** Checksummed records with invalid content (wrong shape, foreign topic, non-integer seq…). */
  invalidRecords: number;
  /** Seqs of skipped message records, where readable. */
  lostSeqs: number[];
  /** The seq high-water mark file was unreadable. */
  reservationDamaged: boolean;
}

/** One line for a fault message: what the damage cost. */
export function describeDamage(d: JournalDamage): string {
  const parts: string[] = [];
  if (d.damagedBytes) parts.push(`${d.damagedBytes} damaged bytes in ${d.damagedRegions} region(s) (torn write?)`);
  if (d.invalidRecords) {
    const seqs = d.lostSeqs.length
      ? ` (seq ${d.lostSeqs.slice(0, 10).join(", ")}${d.lostSeqs.length > 10 ? ", …" : ""})`
      : "";
    parts.push(`${d.invalidRecords} invalid record(s) skipped${seqs}`);
  }
  if (d.reservationDamaged) parts.push("seq high-water mark unreadable");
  return parts.join("; ");
}

/**
 * The outbox's on-disk journal: an append-only file of checksummed records. A message record
 * is fsync'd before `append` resolves; writes that arrive together share one write and one
 * fsync (group commit). Acks and drops are appended after the message they name, so a reader
 * never sees an ack for a message it does not have. Damaged bytes (a torn tail after a power
 * cut) are skipped on open, and the file is rewritten clean.
 */
export class Journal {
  readonly path: string;
  private fh: FileHandle | undefined;
  private queue: QueuedWrite[] = [];
  private writing = false;
  private fileBytes = 0;
  private liveBytes = 0;
  private nextSeq = 1;
  private readonly pending = new Map<number, JournalMessage>();
  private readonly reservation: SeqReservation;

  constructor(private readonly opts: JournalOptions) {
    this.path = join(opts.dir, "outbox.journal");
    this.reservation = new SeqReservation(join(opts.dir, "outbox.seq"), opts.seqBlock ?? 1000);
  }

  /**
   * Read the journal (creating it if absent) and return what it still holds, in seq order.
   * `damage` is set when something was skipped; `rewritten` tells whether the file was then
   * rewritten clean (so the damage is over and only its loss remains to report).
   */
  async open(): Promise<{
    pending: JournalMessage[];
    damagedBytes: number;
    damage: JournalDamage | null;
    rewritten: boolean;
  }> {
    await mkdir(this.opts.dir, { recursive: true });
    const reserved = await this.reservation.read();
    let buf: Buffer;
    try {
      buf = await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      buf = Buffer.alloc(0);
    }
    const decoded = decodeJournal(buf, { topicPrefix: this.opts.topicPrefix });
    for (const r of decoded.records) this.applyRecord(r);
    this.fileBytes = buf.length;
    // seq continues above every number that may have been handed out before, journal or not
    this.nextSeq = Math.max(this.nextSeq, reserved.reservedBelow);
    const { damagedBytes, damagedRegions, invalidRecords, lostSeqs } = decoded;
    const damage: JournalDamage | null =
      damagedBytes > 0 || invalidRecords > 0 || reserved.damaged
        ? { damagedBytes, damagedRegions, invalidRecords, lostSeqs, reservationDamaged: reserved.damaged }
        : null;
    let rewritten = false;
    if (damage) {
      this.opts.log.warn({ ...damage, path: this.path }, "journal damaged; skipped what was damaged");
      try {
        if (damagedBytes > 0 || invalidRecords > 0) await this.rewrite();
        rewritten = true;
      } catch (err) {
        this.opts.log.error({ err }, "could not rewrite the damaged journal");
      }
    }
    await this.reservation.reserveFrom(this.nextSeq);
    this.fh = await open(this.path, "a");
    return { pending: this.pendingMessages(), damagedBytes, damage, rewritten };
  }

  private applyRecord(r: JournalRecord): void {
    switch (r.k) {
      case "h":
        this.nextSeq = Math.max(this.nextSeq, r.nextSeq);
        break;
      case "m":
        this.pending.set(r.seq, r);
        this.liveBytes += r.body.length;
        this.nextSeq = Math.max(this.nextSeq, r.seq + 1);
        break;
      case "a":
      case "d": {
        const m = this.pending.get(r.seq);
        if (m) {
          this.pending.delete(r.seq);
          this.liveBytes -= m.body.length;
        }
        break;
      }
    }
  }

  /** The next free seq (strictly increasing across restarts and compactions). */
  takeSeq(): number {
    try {
      this.reservation.cover(this.nextSeq);
    } catch (err) {
      // the press still goes out: seq stays increasing in this process, only a crash could repeat it
      this.opts.log.error({ err }, "could not write the seq high-water mark");
    }
    return this.nextSeq++;
  }

  pendingMessages(): JournalMessage[] {
    return [...this.pending.values()].sort((a, b) => a.seq - b.seq);
  }

  get depth(): number {
    return this.pending.size;
  }

  /** Bytes of message bodies still pending (what the size bound is about). */
  get pendingBytes(): number {
    return this.liveBytes;
  }

  get sizeOnDisk(): number {
    return this.fileBytes;
  }

  /** Append a message; resolves once it is on disk (fsync'd). */
  appendMessage(m: JournalMessage): Promise<void> {
    this.applyRecord(m);
    return this.enqueue(encodeRecord(m), true);
  }

  /** Record that the broker acknowledged `seq` (or that telemetry `seq` was dropped). */
  appendRemoval(kind: "a" | "d", seq: number): Promise<void> {
    this.applyRecord({ k: kind, seq });
    // An ack need not be fsync'd on its own: if it is lost, the message is sent once more
    // (the center de-duplicates by eventId). It shares the next message's fsync anyway.
    return this.enqueue(encodeRecord({ k: kind, seq }), false);
  }

  private enqueue(buf: Buffer, sync: boolean): Promise<void> {
    return new Promise((done, fail) => {
      this.queue.push({ buf, sync, done, fail });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          if (!this.fh) throw new Error("journal is not open");
          const buf = batch.length === 1 ? batch[0]!.buf : Buffer.concat(batch.map((w) => w.buf));
          await this.fh.write(buf);
          this.fileBytes += buf.length;
          if (batch.some((w) => w.sync)) await this.fh.datasync();
          for (const w of batch) w.done();
        } catch (err) {
          for (const w of batch) w.fail(err as Error);
        }
        if (this.queue.length === 0 && this.shouldCompact()) await this.compact();
      }
    } finally {
      this.writing = false;
    }
  }

  private shouldCompact(): boolean {
    return this.fileBytes > this.opts.compactBytes && this.liveBytes * 2 < this.fileBytes;
  }

  private async compact(): Promise<void> {
    try {
      const before = this.fileBytes;
      await this.fh?.close();
      this.fh = undefined;
      await this.rewrite();
      this.opts.log.debug({ before, after: this.fileBytes, pending: this.pending.size }, "journal compacted");
    } catch (err) {
      this.opts.log.error({ err }, "journal compaction failed; keeping the old file");
    } finally {
      this.fh ??= await open(this.path, "a");
    }
  }

  /** Write header + pending messages to a new file and swap it in atomically. */
  private async rewrite(): Promise<void> {
    const parts = [
      encodeRecord({ k: "h", nextSeq: this.nextSeq }),
      ...this.pendingMessages().map((m) => encodeRecord(m)),
    ];
    const buf = Buffer.concat(parts);
    await atomicWriteFile(this.path, buf);
    this.fileBytes = buf.length;
  }

  /** Wait for queued writes, then close the file. */
  async close(): Promise<void> {
    while (this.writing || this.queue.length) await new Promise((r) => setTimeout(r, 1));
    if (!this.fh) return;
    await this.fh.close();
    this.fh = undefined;
    await this.reservation.release(this.nextSeq).catch((err: Error) => {
      this.opts.log.warn({ err }, "could not record the exact next seq; the next start skips ahead");
    });
  }
}
