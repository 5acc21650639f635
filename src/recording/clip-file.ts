import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { fsyncDir } from "../fsutil/atomic-write.js";
import { fragment, initSegment, type TrackInfo, type TrackRun } from "./fmp4.js";

/**
 * One fMP4 file being written: the init segment, then each fragment appended and fsynced
 * before the next, so after a power cut the file holds whole fragments plus at most one cut
 * short (which the repair drops). Writes are serialized; nothing is ever rewritten in place.
 */
export class ClipWriter {
  private seq = 0;
  private chain: Promise<void> = Promise.resolve();
  /** Bytes in the file (after the writes done so far). */
  bytes = 0;
  /** Media bytes (sample data) written, for the write-amplification figure. */
  mediaBytes = 0;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
  ) {}

  static async create(path: string, tracks: TrackInfo[]): Promise<ClipWriter> {
    const fh = await open(path, "wx");
    const w = new ClipWriter(path, fh);
    const init = initSegment(tracks);
    await fh.write(init);
    await fh.sync();
    await fsyncDir(path.slice(0, path.lastIndexOf("/")) || ".");
    w.bytes = init.length;
    return w;
  }

  /** Append one fragment (runs without samples are left out); resolves once it is on disk. */
  append(runs: TrackRun[]): Promise<void> {
    if (!runs.some((r) => r.samples.length > 0)) return this.chain;
    const buf = fragment(++this.seq, runs);
    const media = runs.reduce((n, r) => n + r.samples.reduce((m, s) => m + s.data.length, 0), 0);
    this.chain = this.chain.then(async () => {
      await this.fh.write(buf);
      await this.fh.sync();
      this.bytes += buf.length;
      this.mediaBytes += media;
    });
    return this.chain;
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
    await this.fh.close().catch(() => undefined);
  }
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
