import type { ChildProcess, StdioPipe } from "node:child_process";
import type { Writable } from "node:stream";
import type { Logger } from "pino";
import {
  MIC_RTP_PAYLOAD_TYPE,
  RTP_PACKET_SIZE_AUDIO,
  SPEAKER_RTP_PAYLOAD_TYPE,
  volumeFactor,
  type Microphone,
  type Speaker,
} from "./audio.js";
import { OggOpusWriter } from "./audio-ogg.js";
import { RtpProcessSource, SupervisedRtpProcess, type CommandLine } from "./camera-process.js";
import { spawnTied, stopChild } from "./tied-process.js";
import { Listeners } from "./listeners.js";
import { SerialOps } from "./serial-ops.js";

const QUIET = ["-hide_banner", "-nostats", "-loglevel", "error"];

/** Opus encode + RTP out, shared by every microphone command line. */
export function opusRtpOut(bitrateKbps: number, gainDb: number): string[] {
  return ["-af", `volume=${gainDb}dB`, ...opusRtpEncode(bitrateKbps)];
}

/** Opus encode + RTP out of an already filtered stream. */
export function opusRtpEncode(bitrateKbps: number): string[] {
  return [
    "-ac",
    "1",
    "-ar",
    "48000",
    "-c:a",
    "libopus",
    "-application",
    "voip",
    "-b:a",
    `${bitrateKbps}k`,
    "-frame_duration",
    "20",
    "-f",
    "rtp",
    "-payload_type",
    String(MIC_RTP_PAYLOAD_TYPE),
    `rtp://127.0.0.1:{port}?pkt_size=${RTP_PACKET_SIZE_AUDIO}&localaddr=127.0.0.1`,
  ];
}

/** A microphone whose capture/encode is a supervised process; `setGain` restarts it. */
export class ProcessMicrophone extends RtpProcessSource implements Microphone {
  protected readonly proc: SupervisedRtpProcess;
  protected gainDb: number;

  constructor(
    readonly driver: string,
    o: { gainDb: number; log?: Logger; feedStdin?: (stdin: Writable) => () => void },
    pipeline: (gainDb: number) => readonly CommandLine[],
  ) {
    super();
    this.gainDb = o.gainDb;
    const { log, feedStdin } = o;
    this.proc = new SupervisedRtpProcess({ name: "mic", pipeline: () => pipeline(this.gainDb), log, feedStdin });
  }
  setGain(db: number): void {
    if (db === this.gainDb) return;
    this.gainDb = db;
    void this.proc.restart();
  }
  pid(): number | undefined {
    return this.proc.pid();
  }
}

/** ALSA capture: `ffmpeg -f alsa -i DEVICE` → Opus RTP. */
export function alsaMicPipeline(device: string, bitrateKbps: number, gainDb: number): CommandLine[] {
  return [
    [
      "ffmpeg",
      [
        ...QUIET,
        "-fflags",
        "nobuffer",
        "-f",
        "alsa",
        "-ac",
        "1",
        "-ar",
        "48000",
        "-i",
        device,
        ...opusRtpOut(bitrateKbps, gainDb),
      ],
    ],
  ];
}

export class AlsaMicrophone extends ProcessMicrophone {
  constructor(o: { device: string; bitrateKbps: number; gainDb: number; log?: Logger }) {
    super("alsa", o, (gain) => alsaMicPipeline(o.device, o.bitrateKbps, gain));
  }
}

/**
 * A speaker: Opus RTP in → Ogg Opus on ffmpeg's stdin → decoded → `output` (ALSA, or PCM for
 * the simulated speaker). Volume is ffmpeg's `volume` filter, so a change restarts the decoder
 * (a gap of about 100 ms). The process is restarted if it dies while the speaker is started.
 */
export abstract class FfmpegSpeaker implements Speaker {
  private child: ChildProcess | undefined;
  private ogg: OggOpusWriter | undefined;
  private running = false;
  private restartTimer: NodeJS.Timeout | undefined;
  protected readonly faults = new Listeners<[Error]>();
  protected volume: number;
  /** Packets handed to the decoder since start. */
  played = 0;

  constructor(
    readonly driver: string,
    o: { volume: number },
    protected readonly log?: Logger,
  ) {
    this.volume = o.volume;
  }

  /** The ffmpeg output part (after the volume filter). */
  protected abstract outputArgs(): string[];
  /** Called with the new process, e.g. to read its stdout. */
  protected attach(_child: ChildProcess): void {}
  /** Extra pipes after stderr (fd 3…), e.g. for a second output the driver reads. */
  protected extraPipes(): StdioPipe[] {
    return [];
  }
  /** Filters after the volume, e.g. a level meter. */
  protected extraFilters(): string[] {
    return [];
  }

  /** Start, stop and respawn run one after another: one decoder process at most, ever. */
  private readonly ops = new SerialOps();

  start(): Promise<void> {
    return this.ops.run(async () => {
      if (this.running) return;
      this.running = true;
      this.spawn();
    });
  }

  private spawn(): void {
    const args = [
      ...QUIET,
      "-fflags",
      "nobuffer",
      "-flags",
      "low_delay",
      "-probesize",
      "4096",
      "-analyzeduration",
      "0",
      "-f",
      "ogg",
      "-i",
      "pipe:0",
      "-af",
      [`volume=${volumeFactor(this.volume)}`, ...this.extraFilters()].join(","),
      ...this.outputArgs(),
    ];
    const child = spawnTied("ffmpeg", args, { stdio: ["pipe", "pipe", "pipe", ...this.extraPipes()] });
    this.child = child;
    this.ogg = new OggOpusWriter();
    child.stdin?.on("error", () => undefined);
    child.stdin?.write(this.ogg.header());
    let tail = "";
    child.stderr?.on("data", (d: Buffer) => (tail = (tail + d.toString()).slice(-400)));
    const gone = (why: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (!this.running) return;
      const err = new Error(`speaker: ffmpeg ${why} ${tail.trim()}`);
      this.log?.error({ err: err.message }, "speaker process died; restarting");
      this.faults.emit(err);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        void this.ops.run(async () => {
          if (this.running && !this.child) this.spawn();
        });
      }, 500);
    };
    child.on("exit", (code, signal) => gone(`exited (${signal ?? `code ${code}`})`));
    // a failed spawn (no ffmpeg, no memory) is an 'error' event: a fault, never a crash of the pillar
    child.on("error", (e) => gone(`failed (${e.message})`));
    this.attach(child);
  }

  play(packet: Buffer): void {
    const child = this.child;
    if (!this.running || !child?.stdin?.writable || !this.ogg) return;
    if ((packet[1]! & 0x7f) !== SPEAKER_RTP_PAYLOAD_TYPE) return;
    const page = this.ogg.packet(packet);
    if (!page) return;
    this.played++;
    child.stdin.write(page);
  }

  setVolume(percent: number): void {
    if (percent === this.volume) return;
    this.volume = percent;
    if (this.running) void this.respawn();
  }

  private respawn(): Promise<void> {
    return this.ops.run(async () => {
      const old = this.child;
      this.child = undefined;
      if (old) await stopChild(old);
      if (this.running && !this.child) this.spawn();
    });
  }

  abstract beep(ms: number, hz?: number, volume?: number): void;

  onFault(l: (err: Error) => void): () => void {
    return this.faults.add(l);
  }

  pid(): number | undefined {
    return this.child?.pid;
  }

  stop(): Promise<void> {
    return this.ops.run(async () => {
      this.running = false;
      if (this.restartTimer) clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      const old = this.child;
      this.child = undefined;
      if (old) {
        old.stdin?.end();
        await stopChild(old);
      }
    });
  }
}

/** ALSA playback through ffmpeg; `beep` plays a sine on the same device (dmix/PipeWire mix it). */
export class AlsaSpeaker extends FfmpegSpeaker {
  private readonly beeps = new Set<ChildProcess>();

  constructor(private readonly o: { device: string; volume: number; log?: Logger }) {
    super("alsa", o, o.log);
  }

  protected outputArgs(): string[] {
    return ["-f", "alsa", this.o.device];
  }

  beep(ms: number, hz = 880, volume = this.volume): void {
    const b = spawnTied(
      "ffmpeg",
      [
        ...QUIET,
        "-f",
        "lavfi",
        "-i",
        `sine=frequency=${hz}:duration=${ms / 1000}`,
        "-af",
        `volume=${volumeFactor(volume)}`,
        "-f",
        "alsa",
        this.o.device,
      ],
      { stdio: "ignore" },
    );
    this.beeps.add(b);
    b.on("exit", () => this.beeps.delete(b));
    b.on("error", () => this.beeps.delete(b));
  }

  override async stop(): Promise<void> {
    const stopped = super.stop(); // queued now, in call order with start() (see SimSpeaker.stop)
    await Promise.all([...this.beeps].map((b) => stopChild(b)));
    await stopped;
  }
}
