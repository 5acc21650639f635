import type { Logger } from "pino";
import { ProcessMicrophone, opusRtpEncode, opusRtpOut } from "../audio-drivers.js";
import type { CommandLine } from "../camera-process.js";
import type { SimControl } from "../sim-controls.js";
import type { SimAir } from "./sim-air.js";

const QUIET = ["-hide_banner", "-nostats", "-loglevel", "error"];
/** The capsule's own sound: a 440 Hz "voice" with a 1 s beep pattern (lavfi `sine`). */
const VOICE = "sine=frequency=440:beep_factor=2:sample_rate=48000";

/**
 * The simulated microphone's command. Without `air`: the generated voice or, when deaf, digital
 * silence (`anullsrc`), encoded to Opus RTP. With `air`: the voice mixed with what is in the air
 * (PCM on stdin, from the simulated speaker), so the speaker → microphone loop is acoustic; a deaf
 * capsule turns the whole mix to digital silence.
 */
export function simMicPipeline(deaf: boolean, bitrateKbps: number, gainDb: number, air = false): CommandLine[] {
  if (!air) {
    const src = deaf ? "anullsrc=channel_layout=mono:sample_rate=48000" : VOICE;
    return [["ffmpeg", [...QUIET, "-re", "-f", "lavfi", "-i", src, ...opusRtpOut(bitrateKbps, gainDb)]]];
  }
  const graph = `[0:a][1:a]amix=inputs=2:duration=first:dropout_transition=0:normalize=0,volume=${deaf ? 0 : `${gainDb}dB`}[mic]`;
  return [
    [
      "ffmpeg",
      [
        ...QUIET,
        ...["-re", "-f", "lavfi", "-i", VOICE],
        ...["-f", "s16le", "-ar", "48000", "-ac", "1", "-i", "pipe:0"],
        ...["-filter_complex", graph, "-map", "[mic]"],
        ...opusRtpEncode(bitrateKbps),
      ],
    ],
  ];
}

/** Simulated microphone with a `deafen()` hook (a dead capsule) and `kill()` (a crash). */
export class SimMicrophone extends ProcessMicrophone {
  private deaf = false;

  constructor(o: { bitrateKbps: number; gainDb: number; log?: Logger; air?: SimAir }) {
    const air = o.air;
    super("sim", { ...o, feedStdin: air ? (stdin) => air.listen(stdin) : undefined }, (gain) =>
      simMicPipeline(this?.deaf ?? false, o.bitrateKbps, gain, !!air),
    );
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
