import { readFile, stat } from "node:fs/promises";
import type { Logger } from "pino";
import { SPEAKER_RTP_PAYLOAD_TYPE } from "../../hal/audio.js";
import { opusPacketSamples, readOggOpus } from "../../hal/audio-ogg.js";

/** A prompt file is small (a few seconds of 24 kbit/s Opus); anything larger is refused unread. */
export const MAX_PROMPT_BYTES = 1024 * 1024;
/** Packets are handed to the speaker this far ahead of their play time (a little decoder buffer). */
const LOOKAHEAD_MS = 60;
const TICK_MS = 20;

export interface PromptPlayerOptions {
  /** Where each Opus RTP packet goes (the speaker's `play`, which never blocks nor throws). */
  sink(packet: Buffer): void;
  log: Logger;
  /** A clip file that cannot be read or parsed (once per file until it loads again). */
  onMissing(file: string, err: Error): void;
  /** Every clip file asked for since the last miss loaded again. */
  onAllFound(): void;
}

/**
 * Plays Ogg Opus clips (config/prompts) as Opus RTP packets paced in real time, so the speaker
 * driver plays them exactly like the officer's voice. One sequence at a time: `play` replaces
 * what plays. Never throws: a missing or broken file is reported and skipped.
 */
export class PromptPlayer {
  private readonly cache = new Map<string, Buffer[]>();
  private readonly missing = new Set<string>();
  private run = 0;
  private current = 0;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private seq = (Math.random() * 0xffff) >>> 0;
  private ts = (Math.random() * 0xffffffff) >>> 0;
  private readonly ssrc = ((Math.random() * 0xfffffff0) >>> 0) + 1;
  /** Packets handed to the sink since construction. */
  sent = 0;

  constructor(private readonly o: PromptPlayerOptions) {}

  /** True while a sequence plays. */
  get playing(): boolean {
    return this.current !== 0;
  }

  /**
   * Play `once` in order, then repeat `loop` until `stop()` or the next `play`. Resolves when the
   * sequence finished or was replaced (a loop ends only then, or when none of its files loads).
   */
  async play(once: readonly string[], loop: readonly string[] = []): Promise<void> {
    const run = this.interrupt();
    this.current = run;
    try {
      const clock = { start: Date.now(), samples: 0 };
      for (const file of once) if (!(await this.clip(run, file, clock))) return;
      while (loop.length > 0) {
        const before = clock.samples;
        for (const file of loop) if (!(await this.clip(run, file, clock))) return;
        if (clock.samples === before) return; // nothing of the loop loads: do not spin
      }
    } finally {
      if (this.current === run) this.current = 0;
    }
  }

  /** Stop what plays (at once: no more packets go out). */
  stop(): void {
    this.interrupt();
  }

  private interrupt(): number {
    this.run++;
    this.current = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    return this.run;
  }

  /** Play one clip; false when the sequence was stopped or replaced meanwhile. */
  private async clip(run: number, file: string, clock: { start: number; samples: number }): Promise<boolean> {
    const packets = await this.load(file);
    if (run !== this.run) return false;
    for (const p of packets) {
      const samples = opusPacketSamples(p);
      if (samples === 0) continue;
      const due = clock.start + clock.samples / 48;
      const wait = due - Date.now() - LOOKAHEAD_MS;
      if (wait > 0 && !(await this.sleep(run, Math.min(wait, TICK_MS * 5)))) return false;
      if (run !== this.run) return false;
      this.send(p, samples);
      clock.samples += samples;
    }
    return run === this.run;
  }

  private sleep(run: number, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.wake = () => resolve(false);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.wake = undefined;
        resolve(run === this.run);
      }, ms);
    });
  }

  private send(payload: Buffer, samples: number): void {
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h[1] = SPEAKER_RTP_PAYLOAD_TYPE;
    h.writeUInt16BE(this.seq, 2);
    h.writeUInt32BE(this.ts, 4);
    h.writeUInt32BE(this.ssrc, 8);
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + samples) >>> 0;
    this.sent++;
    try {
      this.o.sink(Buffer.concat([h, payload]));
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, "prompt packet not played");
    }
  }

  /** The clip's Opus packets (cached), or none when it cannot be read. */
  private async load(file: string): Promise<Buffer[]> {
    const cached = this.cache.get(file);
    if (cached) return cached;
    try {
      const st = await stat(file);
      if (!st.isFile() || st.size > MAX_PROMPT_BYTES)
        throw new Error(`not a file of at most ${MAX_PROMPT_BYTES} bytes (${st.size})`);
      const packets = readOggOpus(await readFile(file));
      if (packets.length === 0) throw new Error("no Opus packets");
      this.cache.set(file, packets);
      if (this.missing.delete(file) && this.missing.size === 0) this.o.onAllFound();
      return packets;
    } catch (err) {
      if (!this.missing.has(file)) {
        this.missing.add(file);
        this.o.log.error({ file, err: (err as Error).message }, "prompt file unusable: skipped");
        this.o.onMissing(file, err as Error);
      }
      return [];
    }
  }
}
