/** Sample rate of the PCM a simulated speaker keeps for measurement (its decoder's output). */
export const METER_RATE = 48_000;

export interface PcmWindow {
  /** Wall-clock time the window's last sample arrived (ms). */
  at: number;
  /** RMS level in dBFS (-Infinity for digital silence). */
  rmsDbfs: number;
  /** Share of the window's energy at the asked frequency (Goertzel), 0..~1: a pure tone is ~1. */
  toneShare: number;
}

/** Goertzel power of `hz` in `x` (16-bit samples at `rate`), normalised to the window's energy. */
export function toneShare(x: Int16Array, hz: number, rate = METER_RATE): number {
  const n = x.length;
  if (n === 0) return 0;
  const k = (2 * Math.PI * hz) / rate;
  const c = 2 * Math.cos(k);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]! / 32768;
    energy += v * v;
    const s0 = v + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  if (energy === 0) return 0;
  const power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return (2 * power) / (n * energy);
}

/**
 * Keeps the mono 16-bit PCM that arrived in the last `keepS` seconds of wall-clock time (and
 * never more than `keepS` seconds of samples) with arrival times, and measures it in windows: RMS
 * and the share of one frequency. The age bound matters on a long run: sound comes in short
 * bursts (prompts, a call), so a bound on samples alone fills up over many minutes and holds
 * megabytes of old sound nobody will measure (the soak saw it as RSS growth).
 */
export class PcmMeter {
  /** Raw s16le chunks as they came (converted only when measured: keeping them costs nothing). */
  private chunks: { at: number; data: Buffer }[] = [];
  private bytes = 0;

  constructor(private readonly keepS = 120) {}

  push(data: Buffer, at = Date.now()): void {
    this.chunks.push({ at, data });
    this.bytes += data.length;
    const oldest = at - this.keepS * 1000;
    while (this.chunks.length > 1) {
      const first = this.chunks[0]!;
      const overSize = this.bytes - first.data.length > this.keepS * METER_RATE * 2;
      if (!overSize && first.at >= oldest) break;
      this.bytes -= first.data.length;
      this.chunks.shift();
    }
  }

  /** Samples kept now. */
  get samples(): number {
    return this.bytes >> 1;
  }

  /** Consecutive windows of `windowMs` over the PCM that arrived after `since`. */
  windows(since: number, hz: number, windowMs = 100): PcmWindow[] {
    const size = Math.round((METER_RATE * windowMs) / 1000);
    const out: PcmWindow[] = [];
    let buf = new Int16Array(size);
    let fill = 0;
    let odd: number | undefined; // a sample split between two chunks
    for (const c of this.chunks) {
      if (c.at < since) continue;
      let i = 0;
      if (odd !== undefined && c.data.length > 0) {
        buf[fill++] = (((c.data[0]! << 8) | odd) << 16) >> 16;
        odd = undefined;
        i = 1;
      }
      for (; i + 1 < c.data.length; i += 2) {
        if (fill === size) {
          out.push(measure(buf, hz, c.at));
          buf = new Int16Array(size);
          fill = 0;
        }
        buf[fill++] = c.data.readInt16LE(i);
      }
      if (i < c.data.length) odd = c.data[i];
      if (fill === size) {
        out.push(measure(buf, hz, c.at));
        buf = new Int16Array(size);
        fill = 0;
      }
    }
    return out;
  }
}

function measure(buf: Int16Array, hz: number, at: number): PcmWindow {
  let sum = 0;
  for (const v of buf) sum += (v / 32768) ** 2;
  const rms = Math.sqrt(sum / buf.length);
  return { at, rmsDbfs: rms > 0 ? 20 * Math.log10(rms) : -Infinity, toneShare: toneShare(buf, hz) };
}
