import type { ChildProcess } from "node:child_process";
import type { Microphone } from "../../../hal/audio.js";
import { OggOpusWriter } from "../../../hal/audio-ogg.js";
import { spawnTied, stopChild } from "../../../hal/tied-process.js";
import { analyseBlocks, type Block } from "./goertzel.js";

/** The capture is decoded at this rate (enough for tones up to 3 kHz). */
export const CAPTURE_RATE = 16_000;
/** Analysis blocks: 40 ms (25 Hz bins). */
export const BLOCK = 640;

/**
 * Listens to the microphone: its Opus RTP, decoded by one ffmpeg to PCM, cut into blocks
 * analysed at one frequency as they arrive. The microphone is started for it if it was not
 * running, and stopped after unless a call took it meanwhile.
 */
export class MicCapture {
  readonly blocks: Block[] = [];
  private ffmpeg: ChildProcess | undefined;
  private off: (() => void) | undefined;
  private startedMic = false;
  private rest = Buffer.alloc(0);
  private ogg = new OggOpusWriter();

  constructor(
    private readonly mic: Microphone,
    private readonly hz: number,
  ) {}

  async start(): Promise<void> {
    const args = ["-hide_banner", "-loglevel", "error", "-fflags", "nobuffer", "-probesize", "4096"];
    args.push("-analyzeduration", "0", "-f", "ogg", "-i", "pipe:0", "-ac", "1", "-ar", String(CAPTURE_RATE));
    args.push("-flush_packets", "1", "-f", "s16le", "pipe:1");
    const p = spawnTied("ffmpeg", args, { stdio: ["pipe", "pipe", "ignore"] });
    this.ffmpeg = p;
    p.stdin!.on("error", () => undefined);
    p.stdin!.write(this.ogg.header());
    p.stdout!.on("data", (d: Buffer) => this.onPcm(d));
    this.off = this.mic.onRtp((packet) => {
      const page = this.ogg.packet(packet);
      if (page && p.stdin!.writable) p.stdin!.write(page);
    });
    this.startedMic = this.mic.pid() === undefined;
    if (this.startedMic) await this.mic.start();
  }

  private onPcm(d: Buffer): void {
    const buf = Buffer.concat([this.rest, d]);
    const whole = buf.length - (buf.length % (BLOCK * 2));
    this.blocks.push(...analyseBlocks(buf.subarray(0, whole), Date.now(), BLOCK, this.hz, CAPTURE_RATE));
    this.rest = Buffer.from(buf.subarray(whole));
  }

  /** Audio captured so far, in ms. */
  get capturedMs(): number {
    return (this.blocks.length * BLOCK * 1000) / CAPTURE_RATE;
  }

  async stop(keepMic: boolean): Promise<void> {
    this.off?.();
    const p = this.ffmpeg;
    this.ffmpeg = undefined;
    if (p) {
      p.stdin!.end();
      await stopChild(p);
    }
    if (this.startedMic && !keepMic) await this.mic.stop();
  }
}
