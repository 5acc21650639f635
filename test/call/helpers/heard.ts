import type { PcmWindow } from "../../../hal/sim/pcm-meter.js";

/** The ringback's frequency (config/prompts/ringback.opus: 425 Hz, 1 s on, 4 s off). */
export const RINGBACK_HZ = 425;

/** A 100 ms window of the ringback tone: loud, and nearly all its energy at 425 Hz. */
export const isTone = (w: PcmWindow): boolean => w.rmsDbfs > -30 && w.toneShare > 0.7;
/** A window with sound that is not the tone (a spoken prompt, the officer's voice). */
export const isVoice = (w: PcmWindow): boolean => w.rmsDbfs > -45 && w.toneShare < 0.5;

/** Index of the first run of at least `n` consecutive windows matching `f`, or -1. */
export function firstRun(ws: PcmWindow[], f: (w: PcmWindow) => boolean, n: number): number {
  let run = 0;
  for (let i = 0; i < ws.length; i++) {
    run = f(ws[i]!) ? run + 1 : 0;
    if (run >= n) return i - n + 1;
  }
  return -1;
}

/** Length of the run of windows matching `f` that starts at `from`. */
export function runLength(ws: PcmWindow[], from: number, f: (w: PcmWindow) => boolean): number {
  let i = from;
  while (i < ws.length && f(ws[i]!)) i++;
  return i - from;
}

/** The median of the numbers (NaN when empty). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : Number.NaN;
}
