import type { Readable } from "node:stream";
import type { Camera } from "../../../hal/camera.js";
import { spawnTied } from "../../../hal/tied-process.js";
import { type AccessUnit, H264Assembler } from "../../recording/media-samples.js";

/** Size of the gray frames the checks measure (enough for sharpness, cheap to compute in an interpreter). */
export const GRAY_W = 160;
export const GRAY_H = 90;

/** A few decoded frames of the camera, for the camera checks. */
export interface CameraCapture {
  /** Gray frames (GRAY_W × GRAY_H, one byte per pixel), about half a second of video. */
  frames: Buffer[];
  width: number;
  height: number;
  /** The first frame as a JPEG (≤ 640 px wide), for the report and the reference. */
  jpeg: Buffer;
  /** From asking to the first keyframe received (ms). */
  firstFrameMs: number;
  /** Wall-clock span of the frames (ms). */
  spanMs: number;
}

/** The camera's one owner decides: whether something else (a call) holds the camera now. */
export interface GrabOptions {
  /** Access units to collect from the first keyframe (default fps + 1: one second). */
  frames: number;
  timeoutMs: number;
  /** A call started meanwhile: the camera is then left running for it. */
  busy: () => boolean;
  signal?: AbortSignal;
}

/**
 * Collects about a second of the camera's H.264 (from a keyframe; the camera is started for it
 * if it was not running, and stopped after unless a call took it meanwhile), then decodes it
 * with ONE ffmpeg into gray raw frames plus a JPEG of the first.
 */
export async function grabCamera(camera: Camera, o: GrabOptions): Promise<CameraCapture> {
  const asm = new H264Assembler();
  const units: { au: AccessUnit; at: number }[] = [];
  const t0 = Date.now();
  let done: () => void = () => {};
  const enough = new Promise<void>((r) => (done = r));
  const off = camera.onRtp((p) => {
    if (units.length >= o.frames) return;
    for (const au of asm.push(p)) if (units.length < o.frames) units.push({ au, at: Date.now() });
    if (units.length >= o.frames) done();
  });
  const wasRunning = camera.pid() !== undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    if (!wasRunning) await camera.start();
    await Promise.race([
      enough,
      new Promise<void>((r) => (timer = setTimeout(r, o.timeoutMs))),
      new Promise<void>((r) => o.signal?.addEventListener("abort", () => r(), { once: true })),
    ]);
  } finally {
    clearTimeout(timer);
    off();
    if (!wasRunning && !o.busy()) await camera.stop();
  }
  if (units.length === 0) throw new Error(`no keyframe from the camera within ${o.timeoutMs} ms`);
  const { gray, jpeg } = await decodeGray(units.map((u) => u.au));
  const frames: Buffer[] = [];
  for (let off = 0; off + GRAY_W * GRAY_H <= gray.length; off += GRAY_W * GRAY_H)
    frames.push(gray.subarray(off, off + GRAY_W * GRAY_H));
  if (frames.length === 0) throw new Error("the camera's video did not decode");
  return {
    frames,
    width: GRAY_W,
    height: GRAY_H,
    jpeg,
    firstFrameMs: units[0]!.at - t0,
    spanMs: units.at(-1)!.at - units[0]!.at,
  };
}

/** Access units as an H.264 Annex B stream (start codes), what ffmpeg's raw demuxer reads. */
function annexB(units: AccessUnit[]): Buffer {
  const start = Buffer.from([0, 0, 0, 1]);
  return Buffer.concat(units.flatMap((u) => u.nalus.flatMap((n) => [start, n])));
}

/** One ffmpeg: every frame as GRAY_W×GRAY_H gray on stdout, the first as a JPEG on fd 3. */
function decodeGray(units: AccessUnit[]): Promise<{ gray: Buffer; jpeg: Buffer }> {
  const args = ["-hide_banner", "-loglevel", "error", "-threads", "1", "-f", "h264", "-i", "pipe:0"];
  args.push("-map", "0:v", "-vf", `scale=${GRAY_W}:${GRAY_H},format=gray`, "-fps_mode", "passthrough");
  args.push("-f", "rawvideo", "pipe:1");
  args.push("-map", "0:v", "-vf", "scale='min(640,iw)':-2", "-frames:v", "1", "-q:v", "5", "-f", "mjpeg", "pipe:3");
  const p = spawnTied("ffmpeg", args, { stdio: ["pipe", "pipe", "pipe", "pipe"] });
  const gray = collect(p.stdout!);
  const jpeg = collect(p.stdio[3] as Readable);
  let err = "";
  p.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  p.stdin!.on("error", () => undefined);
  p.stdin!.end(annexB(units));
  return new Promise((resolve, reject) => {
    p.once("error", reject);
    p.once("close", async (code) => {
      if (code !== 0) return reject(new Error(`ffmpeg could not decode the camera's video (${code}): ${err.trim()}`));
      resolve({ gray: await gray, jpeg: await jpeg });
    });
  });
}

function collect(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  s.on("data", (d: Buffer) => parts.push(d));
  return new Promise((resolve) => s.once("close", () => resolve(Buffer.concat(parts))));
}
