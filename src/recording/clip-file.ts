import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { fsyncDir } from "../fsutil/atomic-write.js";
import { fragment, initSegment, type TrackInfo, type TrackRun } from "./fmp4.js";

/** What the writer needs of an open file (a `FileHandle`; tests may hand a slower one). */
export type ClipFileHandle = Pick<FileHandle, "write" | "sync" | "close">;

export interface ClipWriterOptions {
  /** Opens a new clip file (default: `open(path, "wx")`). */
  openFile?: (path: string) => Promise<ClipFileHandle>;
  /** Bound of fragments waiting behind a slow write (default `DEFAULT_WRITE_BACKLOG_BYTES`). */
  maxBacklogBytes?: number;
}

/** Fragments waiting for the write in flight: written together, with one fsync (group commit). */
interface Batch {
  bufs: Buffer[];
  bytes: number;
  media: number;
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Default bound of fragments waiting for a slow card, in bytes (≈ a minute of 2 Mbit/s video). */
export const DEFAULT_WRITE_BACKLOG_BYTES = 16 * 1024 * 1024;

/**
 * One fMP4 file being written: the init segment, then fragments appended in order, each on disk
 * (fsynced) before its promise resolves, so after a power cut the file holds whole fragments plus
 * at most one cut short (which the repair drops). Nothing is ever rewritten in place.
 *
 * Group commit: while one write + fsync is in flight, the fragments that arrive wait in one batch
 * that is written with a single write and fsync after it. An SD card whose fsync takes longer than
 * a fragment's span therefore costs latency, not a growing queue. The batch is bounded
 * (`maxBacklogBytes`): a fragment that would exceed it is dropped and counted (the clip keeps
 * playing from the next keyframe) rather than letting memory grow until the pillar dies.
 */
export class ClipWriter {
  private seq = 0;
  private writing: Promise<void> | undefined;
  private next: Batch | undefined;
  private failed: Error | undefined;
  /** Bytes in the file (after the writes done so far). */
  bytes = 0;
  /** Media bytes (sample data) written, for the write-amplification figure. */
  mediaBytes = 0;
  /** Writes (each one fsync) of fragments, and fragments dropped because the disk fell behind. */
  readonly stats = { fragments: 0, writes: 0, dropped: 0 };

  private constructor(
    readonly path: string,
    private readonly fh: ClipFileHandle,
    private readonly maxBacklogBytes: number,
  ) {}

  static async create(path: string, tracks: TrackInfo[], o: ClipWriterOptions = {}): Promise<ClipWriter> {
    const fh = await (o.openFile ?? ((p: string) => open(p, "wx")))(path);
    const w = new ClipWriter(path, fh, o.maxBacklogBytes ?? DEFAULT_WRITE_BACKLOG_BYTES);
    const init = initSegment(tracks);
    await fh.write(init);
    await fh.sync();
    await fsyncDir(path.slice(0, path.lastIndexOf("/")) || ".");
    w.bytes = init.length;
    return w;
  }

  /**
   * Append one fragment (runs without samples are left out); resolves once it is on disk.
   * Rejects when it was dropped (backlog full) or a write failed.
   */
  append(runs: TrackRun[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (!runs.some((r) => r.samples.length > 0)) return this.settled();
    const batch = (this.next ??= newBatch());
    // Sequence numbers stay consecutive over the fragments actually written.
    const buf = fragment(this.seq + 1, runs);
    if (batch.bytes > 0 && batch.bytes + buf.length > this.maxBacklogBytes) {
      this.stats.dropped++;
      return Promise.reject(new Error(`disk too slow: fragment dropped (${this.stats.dropped} so far)`));
    }
    this.seq++;
    batch.bufs.push(buf);
    batch.bytes += buf.length;
    batch.media += runs.reduce((n, r) => n + r.samples.reduce((m, s) => m + s.data.length, 0), 0);
    this.stats.fragments++;
    this.kick();
    return batch.promise;
  }

  /** Start writing the waiting batch when no write is in flight. */
  private kick(): void {
    if (this.writing || !this.next) return;
    const b = this.next;
    this.next = undefined;
    this.writing = (async () => {
      if (this.failed) throw this.failed;
      const data = b.bufs.length === 1 ? b.bufs[0]! : Buffer.concat(b.bufs);
      await this.fh.write(data);
      await this.fh.sync();
      this.bytes += data.length;
      this.mediaBytes += b.media;
      this.stats.writes++;
    })();
    this.writing.then(b.resolve, (err: Error) => {
      this.failed ??= err;
      b.reject(err);
    });
    void this.writing
      .catch(() => undefined)
      .finally(() => {
        this.writing = undefined;
        this.kick();
      });
  }

  /** Resolves once everything appended so far is on disk (or failed). */
  async settled(): Promise<void> {
    while (this.writing || this.next) {
      await (this.next?.promise ?? this.writing)?.catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.settled();
    await this.fh.close().catch(() => undefined);
  }
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A dropped or failed batch is reported through the promise returned by append.
  promise.catch(() => undefined);
  return { bufs: [], bytes: 0, media: 0, promise, resolve, reject };
}

/** Timescale of each track id the recorder writes (1: video, 2: mic, 3: officer). */
const TRACK_TIMESCALE: Record<number, number> = { 1: 90_000, 2: 48_000, 3: 48_000 };

export interface ScanResult {
  /** Length of the playable prefix (0 when not even the init segment is whole). */
  bytes: number;
  fragments: number;
  /** Media duration covered by the complete fragments (s). */
  durationS: number;
}

/** Reads box headers (and the moofs) of an fMP4 file to find its playable prefix. */
export async function scanClip(path: string): Promise<ScanResult> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(8);
    let off = 0;
    let good = 0;
    let fragments = 0;
    let sawMoov = false;
    let moof: Buffer | undefined;
    let end = 0;
    let pendingEnd = 0;
    while (off + 8 <= size) {
      await fh.read(head, 0, 8, off);
      const boxSize = head.readUInt32BE(0);
      const type = head.toString("latin1", 4, 8);
      if (boxSize < 8 || off + boxSize > size) break;
      if (type === "moov") sawMoov = true;
      else if (type === "moof" && sawMoov && !moof && boxSize < 4 * 1024 * 1024) {
        moof = Buffer.alloc(boxSize);
        await fh.read(moof, 0, boxSize, off);
        pendingEnd = moofEnd(moof);
      } else if (type === "mdat" && moof) {
        moof = undefined;
        fragments++;
        end = Math.max(end, pendingEnd);
      } else if (type !== "ftyp") break;
      off += boxSize;
      if (type === "moov" || type === "mdat") good = off;
    }
    return { bytes: sawMoov ? good : 0, fragments, durationS: end };
  } finally {
    await fh.close();
  }
}

/** The latest media end time (s) of any track in one moof: tfdt + the sum of its trun durations. */
function moofEnd(moof: Buffer): number {
  let end = 0;
  let off = 8;
  while (off + 8 <= moof.length) {
    const size = moof.readUInt32BE(off);
    if (size < 8 || off + size > moof.length) break;
    if (moof.toString("latin1", off + 4, off + 8) === "traf") {
      let trackId = 0;
      let base = 0;
      let dur = 0;
      let i = off + 8;
      while (i + 8 <= off + size) {
        const s = moof.readUInt32BE(i);
        const t = moof.toString("latin1", i + 4, i + 8);
        if (s < 8) break;
        if (t === "tfhd") trackId = moof.readUInt32BE(i + 12);
        if (t === "tfdt") base = moof[i + 8] === 1 ? Number(moof.readBigUInt64BE(i + 12)) : moof.readUInt32BE(i + 12);
        if (t === "trun" && moof.readUInt32BE(i + 8) & 0x100) {
          const flags = moof.readUInt32BE(i + 8) & 0xffffff;
          const count = moof.readUInt32BE(i + 12);
          let p = i + 16 + (flags & 1 ? 4 : 0) + (flags & 4 ? 4 : 0);
          const stride = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length * 4;
          for (let k = 0; k < count && p + 4 <= i + s; k++, p += stride) dur += moof.readUInt32BE(p);
        }
        i += s;
      }
      const scale = TRACK_TIMESCALE[trackId];
      if (scale) end = Math.max(end, (base + dur) / scale);
    }
    off += size;
  }
  return end;
}

/**
 * Make an unfinished clip playable: cut it after its last complete fragment. Returns the scan;
 * `fragments === 0` means nothing worth keeping (the caller discards the file).
 */
export async function repairClip(path: string): Promise<ScanResult> {
  const scan = await scanClip(path);
  const fh = await open(path, "r+");
  try {
    if ((await fh.stat()).size !== scan.bytes) {
      await fh.truncate(scan.bytes);
      await fh.sync();
    }
  } finally {
    await fh.close();
  }
  return scan;
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(path)
      .on("data", (d) => h.update(d))
      .on("error", reject)
      .on("end", () => resolve(h.digest("hex")));
  });
}
