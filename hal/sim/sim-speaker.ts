import type { ChildProcess, StdioPipe } from "node:child_process";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import { volumeFactor } from "../audio.js";
import { FfmpegSpeaker } from "../audio-drivers.js";
import { spawnTied, stopChild } from "../tied-process.js";
import type { SimControl } from "../sim-controls.js";
import { PcmMeter } from "./pcm-meter.js";
import type { AirSource, SimAir } from "./sim-air.js";

export interface LevelWindow {
  /** Wall-clock end of the window (ms). */
  at: number;
  /** RMS level of the window in dBFS (-Infinity for digital silence). */
  rmsDbfs: number;
}

const WINDOW_SAMPLES = 4800; // 100 ms at 48 kHz
/** The air's PCM format (SimAir). */
const PCM_OUT = ["-f", "s16le", "-ac", "1", "-ar", "48000"];

/**
 * Simulated speaker: really decodes what it is given and measures it (ffmpeg: Ogg Opus → volume
 * filter → an RMS meter; measuring in ffmpeg costs the pillar process nothing), so a test can
 * prove the officer was heard: `levels` keeps the RMS dBFS of every 100 ms window, `loudestSince(t)` the maximum after a
 * time. `beeps` records the tones asked for. With `air`, what the decoder and the beeps (an ffmpeg
 * sine each) produce is real PCM pushed into the air the simulated microphone hears; `silence()`
 * is a dead cone (wet, torn): the amplifier is fed, nothing reaches the air. `pcm` keeps what the
 * decoder produced (48 kHz) to measure tones and prompts (RMS, Goertzel).
 */
export class SimSpeaker extends FfmpegSpeaker {
  readonly levels: LevelWindow[] = [];
  readonly beeps: { at: number; ms: number; hz: number }[] = [];
  /** Decoded samples since construction. */
  samples = 0;
  /** The decoded sound itself (what reached the cone), for tests: tones, prompts. */
  readonly pcm = new PcmMeter(60);

  private silent = false;
  private readonly tones = new Set<ChildProcess>();
  private readonly air: SimAir | undefined;

  constructor(o: { volume: number; log?: Logger; air?: SimAir }) {
    super("sim", o, o.log);
    this.air = o.air;
  }

  get isSilent(): boolean {
    return this.silent;
  }

  /** Hook: the cone makes no sound (`false`: repaired). */
  silence(silent = true): void {
    this.silent = silent;
  }

  protected override extraPipes(): StdioPipe[] {
    return ["pipe"];
  }

  /** Push what `out` produces (PCM) into the air, unless the cone is dead; the decoder's also to `pcm`. */
  private sound(out: Readable | null | undefined, meter = false): void {
    if (!out) return;
    const src: AirSource | undefined = this.air?.source();
    out.on("data", (d: Buffer) => {
      if (this.silent) return;
      src?.push(d);
      if (meter) this.pcm.push(d);
    });
    out.once("close", () => src?.close());
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
    const pcm = ["-af", `volume=${volumeFactor(this.volume)}`, "-flush_packets", "1", ...PCM_OUT, "pipe:3"];
    return ["-f", "null", "-", ...pcm];
  }

  protected override attach(child: ChildProcess): void {
    this.sound(child.stdio[3] as Readable | null, true);
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

  beep(ms: number, hz = 880, volume = this.volume): void {
    this.beeps.push({ at: Date.now(), ms, hz });
    if (this.beeps.length > 1000) this.beeps.splice(0, 100); // a long run (the soak) beeps forever
    if (!this.air) return;
    const sine = `sine=frequency=${hz}:duration=${ms / 1000}:sample_rate=48000`;
    const args = ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", sine];
    const tone = spawnTied("ffmpeg", [...args, "-af", `volume=${volumeFactor(volume)}`, ...PCM_OUT, "pipe:1"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    this.tones.add(tone);
    tone.once("exit", () => this.tones.delete(tone)).once("error", () => this.tones.delete(tone));
    this.sound(tone.stdout);
  }

  override async stop(): Promise<void> {
    // Queued at once, in call order with start(): awaiting the tones first would let a later
    // start() overtake this stop (start, stop, start ended stopped).
    const stopped = super.stop();
    await Promise.all([...this.tones].map((t) => stopChild(t)));
    await stopped;
  }

  /** The volume in percent now in force. */
  get currentVolume(): number {
    return this.volume;
  }

  simControls(): SimControl[] {
    return [
      { method: "POST", path: "/sim/speaker/silent", handle: () => (this.silence(true), { speaker: "silent" }) },
      { method: "POST", path: "/sim/speaker/sound", handle: () => (this.silence(false), { speaker: "sounding" }) },
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
