import type { Writable } from "node:stream";

/** Bytes per second of the air's PCM: signed 16-bit little-endian, mono, 48 kHz. */
export const AIR_BYTES_PER_S = 48_000 * 2;
/** What one sound source may hold ahead of the listener (a tone is produced faster than real time). */
const MAX_QUEUED_BYTES = 10 * AIR_BYTES_PER_S;
/** The listener is fed this often. */
const TICK_MS = 20;

/** One sound in the air (the speaker's decoder, a beep): PCM pushed, played out in real time. */
export interface AirSource {
  push(pcm: Buffer): void;
  /** No more sound from it once what it queued is played. */
  close(): void;
}

class Source implements AirSource {
  chunks: Buffer[] = [];
  bytes = 0;
  closed = false;

  constructor(private readonly air: SimAir) {}

  push(pcm: Buffer): void {
    // Sound with no microphone listening is gone, as in real air: nothing is kept for later.
    if (!this.air.listening) return;
    if (this.closed || this.bytes + pcm.length > MAX_QUEUED_BYTES) return;
    this.chunks.push(pcm);
    this.bytes += pcm.length;
  }

  close(): void {
    this.closed = true;
    if (this.bytes === 0 || !this.air.listening) this.air.remove(this);
  }

  /** Forget what is queued (the last listener went away). */
  clear(): void {
    this.chunks = [];
    this.bytes = 0;
    if (this.closed) this.air.remove(this);
  }

  /** Take `n` bytes (fewer when it has fewer). */
  take(n: number): Buffer {
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0 && this.chunks.length) {
      const c = this.chunks[0]!;
      if (c.length <= need) {
        parts.push(c);
        this.chunks.shift();
        need -= c.length;
      } else {
        parts.push(c.subarray(0, need));
        this.chunks[0] = c.subarray(need);
        need = 0;
      }
    }
    const out = Buffer.concat(parts);
    this.bytes -= out.length;
    if (this.closed && this.bytes === 0) this.air.remove(this);
    return out;
  }
}

/**
 * The air between the simulated speaker and microphone: an acoustic loop made of real PCM. The
 * speaker's ffmpeg (its decoder, its beeps) pushes the samples it produced; the microphone's
 * ffmpeg reads on its stdin what is in the air — every source mixed, silence when none plays —
 * paced in real time, and mixes it into what its capsule hears. Nothing in it knows about tests.
 */
export class SimAir {
  private readonly sources = new Set<Source>();
  private listeners = 0;

  /** A microphone is listening (sound pushed now is heard). */
  get listening(): boolean {
    return this.listeners > 0;
  }

  source(): AirSource {
    const s = new Source(this);
    this.sources.add(s);
    return s;
  }

  remove(s: Source): void {
    this.sources.delete(s);
  }

  /** Sources playing now (tests). */
  get playing(): number {
    return this.sources.size;
  }

  /** Mix `bytes` of every source (sample sum, clipped). */
  private mix(bytes: number): Buffer {
    const out = Buffer.alloc(bytes);
    for (const s of [...this.sources]) {
      const pcm = s.take(bytes);
      for (let i = 0; i + 1 < pcm.length; i += 2) {
        const v = out.readInt16LE(i) + pcm.readInt16LE(i);
        out.writeInt16LE(Math.max(-32768, Math.min(32767, v)), i);
      }
    }
    return out;
  }

  /**
   * Feed `sink` (a microphone process's stdin) in real time until the returned function is
   * called. A sink that does not keep up is skipped (never buffered without bound).
   */
  listen(sink: Writable): () => void {
    const t0 = Date.now();
    let sent = 0;
    sink.on("error", () => undefined);
    const timer = setInterval(() => {
      const due = Math.floor(((Date.now() - t0) * AIR_BYTES_PER_S) / 1000 / 2) * 2;
      const n = due - sent;
      if (n <= 0) return;
      sent = due;
      const pcm = this.mix(n);
      if (!sink.writable || sink.writableLength > AIR_BYTES_PER_S) return;
      sink.write(pcm);
    }, TICK_MS);
    timer.unref();
    this.listeners++;
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      this.listeners--;
      if (this.listeners === 0) for (const s of [...this.sources]) s.clear();
    };
  }
}
