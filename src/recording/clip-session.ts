import { join } from "node:path";
import type { Logger } from "pino";
import { uuidv7 } from "../util/uuid-v7.js";
import { ClipWriter, sha256File } from "./clip-file.js";
import { ClipMuxer, TRACK_ID } from "./clip-muxer.js";
import type { ClipEntry, ClipKind, ClipStore } from "./clip-store.js";
import type { TrackInfo } from "./fmp4.js";
import { type MediaSample, parameterSets } from "./media-samples.js";

export interface ClipSessionOptions {
  store: ClipStore;
  kind: ClipKind;
  incidentId: string | null;
  pressAt: number | null;
  video: { width: number; height: number; fps: number };
  fragmentMs: number;
  log: Logger;
  /** A write failed or a fragment was dropped (the recorder reports it as a fault). */
  onError?: (message: string) => void;
}

/**
 * One clip being written: its index entry (state `recording`) is saved before the file is
 * created; samples go through the muxer into fragments of at most `fragmentMs` of media, each
 * appended and fsynced. The file starts at the first video keyframe (its SPS/PPS make the
 * avcC); samples before it are dropped.
 */
export class ClipSession {
  readonly id = uuidv7(Date.now());
  private muxer: ClipMuxer | undefined;
  private writer: ClipWriter | undefined;
  private opening: Promise<void> | undefined;
  private fragmentStart = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private finished = false;
  lastError: string | undefined;

  constructor(private readonly o: ClipSessionOptions) {}

  get startedAt(): number | undefined {
    return this.muxer?.startAt;
  }

  get bytes(): number {
    return this.writer?.bytes ?? 0;
  }

  get mediaBytes(): number {
    return this.writer?.mediaBytes ?? 0;
  }

  /** Feed one sample (in arrival order per track). */
  add(s: MediaSample): void {
    if (this.finished) return;
    if (!this.muxer) {
      if (s.track !== "video" || !s.key) return;
      const ps = parameterSetsOf(s);
      if (!ps) return;
      this.muxer = new ClipMuxer(s, this.o.video.fps);
      this.fragmentStart = s.at;
      this.opening = this.open(s, ps);
      this.chain = this.opening;
    }
    if (this.muxer.gapBefore(s)) this.flush(true);
    this.muxer.add(s);
    if (s.at - this.fragmentStart >= this.o.fragmentMs) this.flush(false);
  }

  /** Flush by the clock when no sample comes (camera away): called by the recorder's tick. */
  tick(now: number): void {
    if (this.muxer && now - this.fragmentStart >= this.o.fragmentMs) this.flush(false);
  }

  private flush(all: boolean): void {
    const m = this.muxer;
    if (!m) return;
    const runs = m.take(all);
    this.fragmentStart = m.lastAt;
    // Handed to the writer at once (it batches what a slow fsync holds up), in order: every
    // flush goes through the same `opening` promise, whose callbacks run in registration order.
    this.chain = (this.opening ?? Promise.resolve()).then(async () => {
      if (!this.writer) return;
      try {
        await this.writer.append(runs);
      } catch (err) {
        this.fail(err as Error);
      }
    });
  }

  private async open(first: MediaSample, ps: { sps: Buffer; pps: Buffer }): Promise<void> {
    const { store, video } = this.o;
    const entry: ClipEntry = {
      id: this.id,
      kind: this.o.kind,
      incidentId: this.o.incidentId,
      file: `${this.id}.mp4`,
      start: new Date(first.at).toISOString(),
      end: null,
      pressAt: this.o.pressAt === null ? null : new Date(this.o.pressAt).toISOString(),
      bytes: 0,
      sha256: null,
      state: "recording",
      confirmed: false,
    };
    const tracks: TrackInfo[] = [
      { kind: "video", id: TRACK_ID.video, timescale: 90_000, width: video.width, height: video.height, ...ps },
      { kind: "opus", id: TRACK_ID.mic, timescale: 48_000, channels: 1, name: "pillar microphone" },
      { kind: "opus", id: TRACK_ID.officer, timescale: 48_000, channels: 2, name: "officer" },
    ];
    try {
      await store.begin(entry, () => this.bytes);
      this.writer = await ClipWriter.create(join(store.dir, entry.file), tracks, store.writerOptions);
      this.o.log.info({ clip: this.id, kind: this.o.kind, incidentId: this.o.incidentId }, "clip started");
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private fail(err: Error): void {
    const first = this.lastError === undefined;
    this.lastError = err.message;
    // One log line per clip and kind of trouble, not one per dropped fragment.
    if (first) this.o.log.error({ clip: this.id, err: err.message }, "clip write failed");
    this.o.onError?.(err.message);
  }

  /** The writer's counts: fragments written, writes (fsyncs) and fragments dropped. */
  get writeStats(): { fragments: number; writes: number; dropped: number } | undefined {
    return this.writer?.stats;
  }

  /** Write what is left, close the file and complete its index entry. */
  async finish(): Promise<ClipEntry | undefined> {
    if (this.finished) return undefined;
    this.flush(true);
    this.finished = true;
    await this.chain;
    await this.writer?.settled();
    const w = this.writer;
    if (!w || !this.muxer) return undefined;
    await w.close();
    const entry = await this.o.store.finish(this.id, {
      end: new Date(this.muxer.lastAt).toISOString(),
      bytes: w.bytes,
      sha256: await sha256File(w.path),
    });
    this.o.log.info({ clip: this.id, bytes: w.bytes, durationS: this.muxer.durationS() }, "clip complete");
    return entry;
  }

  /** Resolves once the queued fragments are on disk. */
  settled(): Promise<unknown> {
    return this.chain;
  }
}

function parameterSetsOf(s: MediaSample): { sps: Buffer; pps: Buffer } | undefined {
  const nalus: Buffer[] = [];
  for (let off = 0; off + 4 <= s.data.length; ) {
    const len = s.data.readUInt32BE(off);
    nalus.push(s.data.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return parameterSets(nalus);
}
