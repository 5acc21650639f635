import type { ChildProcess } from "node:child_process";
import type { Logger } from "pino";
import { FfmpegSpeaker } from "../audio-drivers.js";

export interface LevelWindow {
  /** Wall-clock end of the window (ms). */
  at: number;
  /** RMS level of the window in dBFS (-Infinity for digital silence). */
  rmsDbfs: number;
}

const WINDOW_SAMPLES = 4800; // 100 ms at 48 kHz

/**
 * Simulated speaker: really decodes what it is given (ffmpeg: Ogg Opus → volume filter →
 * 48 kHz mono s16le on stdout) and measures it, so a test can prove the officer was heard:
 * `levels` keeps the RMS dBFS of every 100 ms window, `loudestSince(t)` the maximum after a
 * time. `beeps` records the warning tones asked for.
 */
export class SimSpeaker extends FfmpegSpeaker {
  readonly levels: LevelWindow[] = [];
  readonly beeps: { at: number; ms: number; hz: number }[] = [];
  private sumSq = 0;
  private count = 0;
  private carry: Buffer | undefined;
  /** Decoded samples since construction. */
  samples = 0;

  constructor(o: { volume: number; log?: Logger }) {
    super("sim", o, o.log);
  }

  protected outputArgs(): string[] {
    return ["-ac", "1", "-ar", "48000", "-f", "s16le", "pipe:1"];
  }

  protected override attach(child: ChildProcess): void {
    this.carry = undefined;
    child.stdout?.on("data", (d: Buffer) => this.measure(d));
  }

  private measure(chunk: Buffer): void {
    const joined = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const whole = joined.length & ~1;
    this.carry = whole < joined.length ? Buffer.from(joined.subarray(whole)) : undefined;
    // An aligned copy, read as 16-bit samples.
    const pcm = new Int16Array(new Uint8Array(joined.subarray(0, whole)).buffer);
    for (let i = 0; i < pcm.length; i++) {
      const v = pcm[i]! / 32768;
      this.sumSq += v * v;
      if (++this.count === WINDOW_SAMPLES) {
        const rms = Math.sqrt(this.sumSq / this.count);
        this.levels.push({ at: Date.now(), rmsDbfs: rms > 0 ? 20 * Math.log10(rms) : -Infinity });
        if (this.levels.length > 6000) this.levels.splice(0, 1000);
        this.sumSq = 0;
        this.count = 0;
      }
    }
    this.samples += pcm.length;
  }

  /** The loudest 100 ms window that ended after `since` (ms), or -Infinity. */
  loudestSince(since = 0): number {
    let max = -Infinity;
    for (const w of this.levels) if (w.at >= since && w.rmsDbfs > max) max = w.rmsDbfs;
    return max;
  }

  beep(ms: number, hz = 880): void {
    this.beeps.push({ at: Date.now(), ms, hz });
  }

  /** The volume in percent now in force. */
  get currentVolume(): number {
    return this.volume;
  }
}
