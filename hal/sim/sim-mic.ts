import type { Logger } from "pino";
import { ProcessMicrophone, opusRtpOut } from "../audio-drivers.js";
import type { CommandLine } from "../camera-process.js";
import type { SimControl } from "../sim-controls.js";

/**
 * The simulated microphone's command: a generated "voice" (a 440 Hz tone with a 1 s beep
 * pattern, lavfi `sine`) or, when deaf, digital silence (`anullsrc`), encoded to Opus RTP.
 */
export function simMicPipeline(deaf: boolean, bitrateKbps: number, gainDb: number): CommandLine[] {
  const src = deaf
    ? "anullsrc=channel_layout=mono:sample_rate=48000"
    : "sine=frequency=440:beep_factor=2:sample_rate=48000";
  return [
    [
      "ffmpeg",
      [
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        src,
        ...opusRtpOut(bitrateKbps, gainDb),
      ],
    ],
  ];
}

/** Simulated microphone with a `deafen()` hook (a dead capsule) and `kill()` (a crash). */
export class SimMicrophone extends ProcessMicrophone {
  private deaf = false;

  constructor(o: { bitrateKbps: number; gainDb: number; log?: Logger }) {
    super("sim", o, (gain) => simMicPipeline(this?.deaf ?? false, o.bitrateKbps, gain));
  }

  get isDeaf(): boolean {
    return this.deaf;
  }

  /** Hook: the capsule hears nothing (the encoder keeps sending silence). */
  async deafen(deaf = true): Promise<void> {
    this.deaf = deaf;
    await this.proc.restart();
  }

  kill(): number | undefined {
    return this.proc.crash("SIGKILL");
  }

  get packetsReceived(): number {
    return this.proc.received;
  }

  simControls(): SimControl[] {
    return [
      { method: "POST", path: "/sim/mic/deaf", handle: async () => (await this.deafen(true), { mic: "deaf" }) },
      { method: "POST", path: "/sim/mic/hear", handle: async () => (await this.deafen(false), { mic: "hearing" }) },
    ];
  }
}
