import type { Logger } from "pino";
import { CAMERA_RTP_PAYLOAD_TYPE, RTP_PACKET_SIZE, type Camera, type CameraSettings } from "./camera.js";
import { RtpProcessSource, SupervisedRtpProcess, type CommandLine } from "./camera-process.js";

/** The RTP output part of every ffmpeg camera command line. */
export function rtpOut(): string[] {
  return [
    "-an",
    "-f",
    "rtp",
    "-payload_type",
    String(CAMERA_RTP_PAYLOAD_TYPE),
    `rtp://127.0.0.1:{port}?pkt_size=${RTP_PACKET_SIZE}&localaddr=127.0.0.1`,
  ];
}

const FFMPEG_QUIET = ["-hide_banner", "-nostats", "-loglevel", "error"];

/**
 * A camera whose encoder is a pipeline of processes sending RTP to a local port (see
 * `SupervisedRtpProcess`). The drivers differ only in their command lines.
 */
export class ProcessCamera extends RtpProcessSource implements Camera {
  protected readonly proc: SupervisedRtpProcess;

  constructor(
    readonly driver: string,
    readonly settings: CameraSettings,
    pipeline: () => readonly CommandLine[],
    log?: Logger,
  ) {
    super();
    this.proc = new SupervisedRtpProcess({ name: "camera", pipeline, log });
  }
  pid(): number | undefined {
    return this.proc.pid();
  }
  /** Every pid of the pipeline (rpicam: rpicam-vid and ffmpeg). */
  pids(): number[] {
    return this.proc.pids();
  }
  get restarts(): number {
    return this.proc.restarts;
  }
}

/**
 * Raspberry Pi camera module through libcamera: `rpicam-vid` encodes H.264 (the Pi 4's hardware
 * encoder; on a Pi 5 the software encoder, see docs/call.md), `--inline` repeats SPS/PPS on
 * every keyframe, `--intra fps` makes a 1 s GOP, `--flush` writes each frame at once. Its
 * Annex-B output is piped (fd to fd) into ffmpeg, which only packetizes it into RTP (`-c:v copy`).
 */
export function rpicamPipeline(s: CameraSettings, o: { cameraIndex?: number } = {}): CommandLine[] {
  const vid: string[] = [
    "-t",
    "0",
    "--nopreview",
    "--camera",
    String(o.cameraIndex ?? 0),
    "--width",
    String(s.width),
    "--height",
    String(s.height),
    "--framerate",
    String(s.fps),
    "--codec",
    "h264",
    "--profile",
    "baseline",
    "--level",
    "4.1",
    "--inline",
    "--intra",
    String(s.fps),
    "--bitrate",
    String(s.bitrateKbps * 1000),
    "--denoise",
    "cdn_off",
    "--flush",
  ];
  if (s.rotation === 180) vid.push("--rotation", "180");
  vid.push("-o", "-");
  const pack = [
    ...FFMPEG_QUIET,
    "-fflags",
    "nobuffer",
    "-probesize",
    "32",
    "-analyzeduration",
    "0",
    "-f",
    "h264",
    "-framerate",
    String(s.fps),
    "-i",
    "pipe:0",
    "-c:v",
    "copy",
    ...rtpOut(),
  ];
  return [
    ["rpicam-vid", vid],
    ["ffmpeg", pack],
  ];
}

export interface V4l2Options {
  /** e.g. /dev/video0 */
  device: string;
  /**
   * "m2m": raw frames from the device encoded by the SoC's V4L2 mem2mem encoder (h264_v4l2m2m,
   * Pi 4); "copy": the camera's own H.264 (many USB cameras) passed through untouched.
   */
  mode: "m2m" | "copy";
  /** Raw input format for m2m, e.g. yuyv422 or mjpeg (default yuyv422). */
  inputFormat?: string;
}

/** A V4L2 camera through ffmpeg (one process). */
export function v4l2Pipeline(s: CameraSettings, o: V4l2Options): CommandLine[] {
  const size = `${s.width}x${s.height}`;
  const input = ["-f", "v4l2", "-thread_queue_size", "64", "-framerate", String(s.fps), "-video_size", size];
  const tail = ["-bsf:v", "dump_extra", ...rtpOut()];
  if (o.mode === "copy") {
    return [["ffmpeg", [...FFMPEG_QUIET, ...input, "-input_format", "h264", "-i", o.device, "-c:v", "copy", ...tail]]];
  }
  const vf = s.rotation === 180 ? ["-vf", "hflip,vflip"] : [];
  const enc = [
    "-c:v",
    "h264_v4l2m2m",
    "-pix_fmt",
    "yuv420p",
    "-b:v",
    `${s.bitrateKbps}k`,
    "-g",
    String(s.fps),
    "-profile:v",
    "baseline",
    "-num_capture_buffers",
    "16",
  ];
  return [
    [
      "ffmpeg",
      [...FFMPEG_QUIET, ...input, "-input_format", o.inputFormat ?? "yuyv422", "-i", o.device, ...vf, ...enc, ...tail],
    ],
  ];
}

/**
 * The libx264 settings shared by the simulated camera (and documented for a Pi 5 software
 * encode, where `ultrafast` is the one that keeps up). The sim camera uses libx264's default
 * preset, as an ordinary encoder would.
 */
export function x264Args(s: CameraSettings, preset = "ultrafast"): string[] {
  return [
    "-c:v",
    "libx264",
    "-preset",
    preset,
    "-tune",
    "zerolatency",
    "-profile:v",
    "baseline",
    "-level",
    "3.1",
    "-pix_fmt",
    "yuv420p",
    "-b:v",
    `${s.bitrateKbps}k`,
    "-maxrate",
    `${s.bitrateKbps}k`,
    "-bufsize",
    `${Math.round(s.bitrateKbps / 2)}k`,
    "-g",
    String(s.fps),
    "-keyint_min",
    String(s.fps),
    "-sc_threshold",
    "0",
    "-bsf:v",
    "dump_extra",
  ];
}

export class RpicamCamera extends ProcessCamera {
  constructor(settings: CameraSettings, o: { cameraIndex?: number; log?: Logger } = {}) {
    super("rpicam", settings, () => rpicamPipeline(settings, o), o.log);
  }
}

export class V4l2Camera extends ProcessCamera {
  constructor(settings: CameraSettings, o: V4l2Options & { log?: Logger }) {
    super("v4l2", settings, () => v4l2Pipeline(settings, o), o.log);
  }
}
