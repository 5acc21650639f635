import type { SimControl } from "./sim-controls.js";

/**
 * The pillar's audio: a microphone sending Opus RTP and a speaker playing Opus RTP, both through
 * ffmpeg (ALSA on the Pi; PipeWire/PulseAudio's echo-cancel source/sink are ALSA devices too).
 *
 * Contract of a microphone (every driver: alsa, sim):
 * - The constructor does nothing; `start()` spawns the capture and resolves once it runs.
 * - `onRtp` listeners get Opus RTP packets (48 kHz, mono, 20 ms frames) in arrival order.
 * - The capture process is supervised like the camera's (restart with backoff; `onFault` once
 *   per outage, `onRecover` on the first packet after it).
 * - `setGain(dB)` changes the capture gain (the driver may restart its process to apply it).
 * - `stop()` kills the process; idempotent, never throws.
 */
export interface Microphone {
  readonly driver: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  onRtp(listener: (packet: Buffer) => void): () => void;
  onFault(listener: (err: Error) => void): () => void;
  onRecover(listener: () => void): () => void;
  setGain(db: number): void;
  pid(): number | undefined;
  /** Test and demo hooks of a simulated microphone (mounted under `/sim/`); real drivers have none. */
  simControls?(): SimControl[];
}

/**
 * Contract of a speaker (every driver: alsa, sim):
 * - The constructor does nothing; `start()` opens the playback (spawns the decoder) and resolves
 *   once it can take packets. A speaker runs only while a call has two-way audio.
 * - `play(packet)` takes one Opus RTP packet (payload type `SPEAKER_RTP_PAYLOAD_TYPE`, any SSRC);
 *   it never blocks nor throws. Packets before `start()` or after `stop()` are dropped.
 * - `setVolume(percent)` 0..100; applied at once or at the next start (driver's choice, see doc).
 * - `beep(ms, hz, volume?)` plays a local tone (e.g. "the call ends in 30 s" over the call, the
 *   self-test's loop tone) at `volume` percent (default: the speaker's volume); needs no `start()`.
 * - `onFault` hears a playback process that died; the driver restarts it while started.
 * - `stop()` ends the playback; idempotent, never throws.
 */
export interface Speaker {
  readonly driver: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  play(packet: Buffer): void;
  setVolume(percent: number): void;
  beep(ms: number, hz?: number, volume?: number): void;
  onFault(listener: (err: Error) => void): () => void;
  pid(): number | undefined;
  /** Test and demo hooks of a simulated speaker (mounted under `/sim/`); real drivers have none. */
  simControls?(): SimControl[];
}

export interface AudioSettings {
  /** ALSA capture device, e.g. "default", "hw:1,0" or "echocancel_source" through pulse. */
  captureDevice: string;
  /** ALSA playback device. */
  playbackDevice: string;
  micGainDb: number;
  speakerVolume: number;
  bitrateKbps: number;
}

export const MIC_RTP_PAYLOAD_TYPE = 111;
/** Largest Opus RTP packet (a 20 ms frame is far smaller). */
export const RTP_PACKET_SIZE_AUDIO = 1200;
export const SPEAKER_RTP_PAYLOAD_TYPE = 111;
/** Volume in percent → ffmpeg `volume` filter factor (100 % is unity gain: the amplifier sets the loudness). */
export function volumeFactor(percent: number): number {
  return Math.max(0, Math.min(100, percent)) / 100;
}
