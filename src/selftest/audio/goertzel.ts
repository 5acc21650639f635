/** Tone detection on PCM blocks: the Goertzel filter at one frequency, with a Hann window. */

const windows = new Map<number, { w: Float32Array; sum: number }>();
/** The Hann window of `n` samples (computed once per size). */
function hann(n: number): { w: Float32Array; sum: number } {
  let h = windows.get(n);
  if (!h) {
    const w = new Float32Array(n);
    for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    h = { w, sum: w.reduce((a, b) => a + b, 0) };
    windows.set(n, h);
  }
  return h;
}

/** Amplitude (0..1 of full scale) of the `hz` component of `x` (a Hann-windowed Goertzel). */
export function toneAmplitude(x: Float32Array, hz: number, rate: number): number {
  const n = x.length;
  const { w, sum: wsum } = hann(n);
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s = x[i]! * w[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / wsum;
}

/** RMS of a block (0..1 of full scale). */
export function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / x.length);
}

export const dbfs = (amplitude: number) => (amplitude > 0 ? 20 * Math.log10(amplitude) : -Infinity);

/** One analysed block of the capture. */
export interface Block {
  /** Arrival time of the PCM it came in (ms). */
  at: number;
  tone: number;
  rms: number;
}

/** Split s16le PCM into blocks of `size` samples, each analysed at `hz`. */
export function analyseBlocks(pcm: Buffer, at: number, size: number, hz: number, rate: number): Block[] {
  const out: Block[] = [];
  for (let off = 0; off + size * 2 <= pcm.length; off += size * 2) {
    const x = new Float32Array(size);
    for (let i = 0; i < size; i++) x[i] = pcm.readInt16LE(off + i * 2) / 32768;
    out.push({ at, tone: toneAmplitude(x, hz, rate), rms: rms(x) });
  }
  return out;
}
