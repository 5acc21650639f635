import { MicCapture } from "../audio/mic-capture.js";
import { dbfs, type Block } from "../audio/goertzel.js";
import { type Check, fail, pass, round, skip } from "../check.js";

/** Listening goes on this long after the tone's end: the loop's latency (capture, codecs) and then some. */
const LISTEN_AFTER_MS = 1500;
/**
 * The window is counted in captured audio, not wall-clock time: a busy board (a call's encoder,
 * a software H.264 on a Pi 5) delays the capture, and a wall-clock window would close before the
 * tone's audio arrived. A capture this late (wall clock) past the window ends the attempt anyway.
 */
const LATE_CAPTURE_GRACE_MS = 5000;
/** Capture before the first tone: the baseline (what the street sounds like at the tone frequency). */
const BASELINE_MS = 400;
/** The microphone must deliver audio within this. */
const FIRST_AUDIO_MS = 5000;
/** Heard: the tone stands this far above the baseline at its frequency… */
export const MIN_SNR_DB = 20;
/** …and is at least this loud. */
export const MIN_LEVEL_DBFS = -50;
/** A capture whose every block is quieter than this is digital silence (a codec leaves a little noise). */
const SILENCE_RMS = 1e-5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;

interface Attempt {
  volume: number;
  levelDbfs: number;
  snrDb: number;
}

/** The tone's level (mean of the loudest half-tone of blocks) and SNR against the baseline. */
function measure(baseline: Block[], listened: Block[], toneMs: number, volume: number): Attempt {
  const k = Math.max(1, Math.floor(toneMs / 40 / 2));
  const top = listened
    .map((b) => b.tone)
    .sort((a, b) => b - a)
    .slice(0, k);
  const level = top.reduce((s, v) => s + v, 0) / Math.max(1, top.length);
  const base = Math.max(median(baseline.map((b) => b.tone)), 1e-6);
  return { volume, levelDbfs: round(dbfs(level)), snrDb: round(dbfs(level) - dbfs(base)) };
}

/**
 * Speaker → microphone loop: plays a tone on the speaker and looks for it (Goertzel) in what
 * the microphone captures; level and SNR reported. A tone not heard is tried again at the next,
 * louder volume (`selftest.toneVolumes`, up to three). Skipped while a call or an incident has the
 * audio.
 */
export const audioLoopCheck: Check = {
  id: "audio.loop",
  component: "audio",
  title: "speaker → microphone tone loop",
  required: true,
  async run(ctx) {
    if (ctx.busy()) return skip("a call or an open incident has the speaker and microphone");
    const { toneHz, toneMs, toneVolumes } = ctx.config.selftest;
    const { mic, speaker } = ctx.drivers;
    const cap = new MicCapture(mic, toneHz);
    const attempts: Attempt[] = [];
    try {
      await cap.start();
      const until = Date.now() + FIRST_AUDIO_MS;
      while (cap.capturedMs < BASELINE_MS && Date.now() < until && !ctx.signal.aborted) await sleep(50);
      if (cap.capturedMs < BASELINE_MS)
        return fail(
          `the microphone delivers no audio (${Math.round(cap.capturedMs)} ms in ${FIRST_AUDIO_MS / 1000} s)`,
        );
      for (const volume of toneVolumes) {
        if (ctx.signal.aborted || ctx.busy()) return skip("a call started: the audio test gave way");
        const from = cap.blocks.length;
        const baseline = cap.blocks.slice(Math.max(0, from - Math.ceil(BASELINE_MS / 40)), from);
        speaker.beep(toneMs, toneHz, volume);
        const t = Date.now();
        const capturedAtBeep = cap.capturedMs;
        const windowMs = toneMs + LISTEN_AFTER_MS;
        const heard = (m: Attempt) => m.snrDb >= MIN_SNR_DB && m.levelDbfs >= MIN_LEVEL_DBFS;
        let a = measure(baseline, [], toneMs, volume);
        let heardAt: number | undefined;
        // listen until enough of the tone is in, or the window (of captured audio) is over
        while (
          cap.capturedMs - capturedAtBeep < windowMs &&
          Date.now() - t < windowMs + LATE_CAPTURE_GRACE_MS &&
          !ctx.signal.aborted
        ) {
          await sleep(100);
          a = measure(baseline, cap.blocks.slice(from), toneMs, volume);
          if (heard(a)) heardAt ??= Date.now();
          // the level is the loudest half of the tone's blocks: half a tone after it was heard will do
          if (heardAt && Date.now() - heardAt >= toneMs / 2 + 100) break;
        }
        attempts.push(a);
        if (heard(a))
          return pass(
            `${toneHz} Hz heard at ${volume} % volume: level ${a.levelDbfs} dBFS, SNR ${a.snrDb} dB (try ${attempts.length})`,
            a.levelDbfs,
            "dBFS",
            { snrDb: a.snrDb, attempts },
          );
      }
      const silent = cap.blocks.every((b) => b.rms < SILENCE_RMS);
      const best = attempts.reduce((m, a) => (a.snrDb > m.snrDb ? a : m));
      const tries = toneVolumes.map((v) => `${v} %`).join(", ");
      return fail(
        silent
          ? `the microphone hears nothing at all (digital silence over ${round(cap.capturedMs / 1000)} s): deaf capsule or cut cable`
          : `the ${toneHz} Hz tone was not heard at ${tries} (best: ${best.levelDbfs} dBFS, SNR ${best.snrDb} dB; heard needs ≥ ${MIN_LEVEL_DBFS} dBFS and SNR ≥ ${MIN_SNR_DB} dB): speaker silent, wet or blocked?`,
        best.levelDbfs,
        "dBFS",
        { snrDb: best.snrDb, attempts, silent },
      );
    } finally {
      await cap.stop(ctx.busy());
    }
  },
};
