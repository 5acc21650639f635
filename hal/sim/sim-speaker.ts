import type { ChildProcess } from "node:child_process";
import type { Logger } from "pino";
import { FfmpegSpeaker } from "../audio-drivers.js";
import type { SimControl } from "../sim-controls.js";

export interface LevelWindow {
  /** Wall-clock end of the window (ms). */
  at: number;
  /** RMS level of the window in dBFS (-Infinity for digital silence). */
  rmsDbfs: number;
}

const WINDOW_SAMPLES = 4800; // 100 ms at 48 kHz

/**
 * Simulated speaker: really decodes what it is given and measures it (ffmpeg: Ogg Opus → volume
 * filter → an RMS meter; measuring in ffmpeg costs the pillar process nothing), so a test can
 * prove the officer was heard: `levels` keeps the RMS dBFS of every 100 ms window, `loudestSince(t)` the maximum after a
 * time. `beeps` records the warning tones asked for.
 */
export class SimSpeaker extends FfmpegSpeaker {
  readonly levels: LevelWindow[] = [];
  readonly beeps: { at: number; ms: number; hz: number }[] = [];
  /** Decoded samples since construction. */
  samples = 0;

  constructor(o: { volume: number; log?: Logger }) {
    super("sim", o, o.log);
  }

  /** ffmpeg measures: the RMS of every 100 ms (4,800 samples at 48 kHz), printed on stdout. */
  protected override extraFilters(): string[] {
    return [
      "aresample=48000",
      "aformat=channel_layouts=mono",
      `asetnsamples=n=${WINDOW_SAMPLES}:p=0`,
      "astats=metadata=1:reset=1",
      "ametadata=mode=print:key=lavfi.astats.Overall.RMS_level:file=-:direct=1",
    ];
  }

  protected outputArgs(): string[] {
    return ["-f", "null", "-"];
  }

  protected override attach(child: ChildProcess): void {
    let buf = "";
    child.stdout?.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        this.onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
  }

  private onLine(line: string): void {
    const m = /^lavfi\.astats\.Overall\.RMS_level=(.+)$/.exec(line.trim());
    if (!m) return;
    const v = Number(m[1]);
    this.levels.push({ at: Date.now(), rmsDbfs: Number.isFinite(v) ? v : -Infinity });
    if (this.levels.length > 6000) this.levels.splice(0, 1000);
    this.samples += WINDOW_SAMPLES;
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

  simControls(): SimControl[] {
    return [
      {
        method: "GET",
        path: "/sim/speaker",
        handle: (query) => ({
          loudestDbfs: this.loudestSince(Number(query.get("since") ?? 0)),
          played: this.played,
          samples: this.samples,
          beeps: this.beeps,
          recent: this.levels.slice(-20),
        }),
      },
    ];
  }
}
