import type { SimControl } from "./sim-controls.js";

/**
 * The pillar's camera, as a source of H.264 RTP packets (RFC 6184, packetization-mode 1) made by
 * the camera's own encoder (rpicam-vid, a V4L2 M2M encoder, a USB camera's H.264, or libx264 in
 * simulation). Nothing in Node decodes or re-encodes video: packets are forwarded as they come.
 *
 * Contract (every driver: rpicam, v4l2, sim):
 * - The constructor does nothing; `start()` spawns the encoder and resolves once its RTP port is
 *   bound and the process is running (not necessarily once the first packet came).
 * - Packets reach `onRtp` listeners in arrival order; SSRC, payload type, sequence numbers and
 *   timestamps are the encoder's own (the forwarder rewrites them). Each keyframe carries SPS/PPS
 *   in-band, the GOP is short (`fps` frames, i.e. 1 s) and the profile is constrained baseline,
 *   so any WebRTC browser decodes it.
 * - The encoder process is supervised: when it dies it is restarted with backoff (250 ms doubling
 *   to 10 s); `onFault` hears each death (once per outage), `onRecover` the first packet after it.
 * - `pid()` is the encoder's process id while it runs (tests and the bench read /proc with it).
 * - `stop()` kills the process (SIGTERM, then SIGKILL), closes the port; idempotent, never throws.
 */
export interface Camera {
  readonly driver: string;
  readonly settings: CameraSettings;
  start(): Promise<void>;
  stop(): Promise<void>;
  onRtp(listener: (packet: Buffer) => void): () => void;
  onFault(listener: (err: Error) => void): () => void;
  onRecover(listener: () => void): () => void;
  pid(): number | undefined;
  /** Test and demo hooks of a simulated camera (mounted under `/sim/`); real drivers have none. */
  simControls?(): SimControl[];
}

/** What the camera is asked to produce (from the config's `call.camera`). */
export interface CameraSettings {
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
  /** 0 or 180 (a pillar camera is mounted upright or upside down). */
  rotation: number;
}

/** The RTP payload type every camera driver is told to use (the forwarder rewrites it anyway). */
export const CAMERA_RTP_PAYLOAD_TYPE = 96;
/** Largest RTP packet a driver sends: fits a 1280-byte SRTP budget on any path MTU. */
export const RTP_PACKET_SIZE = 1200;
