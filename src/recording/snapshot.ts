import type { Logger } from "pino";
import { spawnTied } from "../../hal/tied-process.js";
import type { PillarBus } from "../bus/events.js";
import type { MediaSample } from "./media-samples.js";

/** What the snapshot needs of the uplink (MqttUplink fits). */
export interface SnapshotTransport {
  readonly topics: { sub(suffix: string): string };
  publish(topic: string, payload: string, o: { qos: 1 }): Promise<void>;
}

export interface SnapshotDeps {
  bus: PillarBus;
  transport: SnapshotTransport;
  /** Video access units (AVCC) from the latest keyframe up to `at`, or [] when the camera had none yet. */
  framesUpTo: (at: number) => MediaSample[];
  pillarId: () => string;
  maxBytes: () => number;
  log: Logger;
}

declare module "../bus/events.js" {
  interface BusEvents {
    /** A press snapshot was published (or failed). */
    "record.snapshot": { incidentId: string; ok: boolean; bytes: number; ms: number; at: number };
  }
}

/**
 * A JPEG of the moment of the press, for the officer's alarm card: the keyframe at or before the
 * press is decoded by one ffmpeg (started ahead and waiting, so a press does not pay its start-up)
 * and published on `pillar/v1/{id}/snapshot`. Runs
 * after the press event is out (never on the button path); a camera still starting is waited
 * for a few seconds.
 */
export class SnapshotService {
  private off: (() => void) | undefined;
  private stopped = false;
  private warm: JpegDecoder | undefined;

  constructor(private readonly d: SnapshotDeps) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.prepare();
    this.off = this.d.bus.on("incident.state", (e) => {
      if (e.state === "alarm" && e.incidentId && e.at >= Date.now() - 10_000) {
        const id = e.incidentId;
        setImmediate(() => void this.take(id, e.at));
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.off?.();
    this.warm?.kill();
    this.warm = undefined;
  }

  private prepare(): void {
    if (!this.stopped && !this.warm) this.warm = startDecoder(640, 5);
  }

  async take(incidentId: string, pressAt: number): Promise<void> {
    let frames = this.d.framesUpTo(pressAt);
    for (let i = 0; i < 25 && frames.length === 0 && !this.stopped; i++) {
      await new Promise((r) => setTimeout(r, 200)); // the camera starts at the press (onDemand)
      frames = this.d.framesUpTo(Date.now());
    }
    let ok = false;
    let bytes = 0;
    try {
      if (frames.length === 0) throw new Error("no video from the camera");
      // The keyframe only (at most one GOP, 1 s, before the press): one frame to decode keeps the
      // snapshot cheap and quick on a loaded Pi; decoding up to the press frame costs a GOP of decodes.
      frames = frames.slice(0, 1);
      // The decoder was started ahead (process start-up is most of the time on a Pi); a new one waits for the next press.
      const decoder = this.warm?.alive ? this.warm : startDecoder(640, 5);
      this.warm = undefined;
      let jpeg = await decoder.decode(frames).finally(() => this.prepare());
      if (jpeg.length > this.d.maxBytes()) jpeg = await decodeLast(frames, 320, 12);
      if (jpeg.length > this.d.maxBytes()) throw new Error(`snapshot larger than ${this.d.maxBytes()} bytes`);
      const last = frames[frames.length - 1]!;
      const msg = {
        v: 1,
        pillarId: this.d.pillarId(),
        incidentId,
        pressAt: new Date(pressAt).toISOString(),
        frameAt: new Date(last.at).toISOString(),
        mime: "image/jpeg",
        bytes: jpeg.length,
        jpeg: jpeg.toString("base64"),
      };
      await this.d.transport.publish(this.d.transport.topics.sub("snapshot"), JSON.stringify(msg), { qos: 1 });
      ok = true;
      bytes = jpeg.length;
    } catch (err) {
      this.d.log.warn({ incidentId, err: (err as Error).message }, "press snapshot not published");
    }
    this.d.bus.emit("record.snapshot", { incidentId, ok, bytes, ms: Date.now() - pressAt, at: Date.now() });
  }
}

/** Annex B (start codes) of AVCC access units: what ffmpeg's raw h264 demuxer reads. */
function annexB(frames: MediaSample[]): Buffer {
  const parts: Buffer[] = [];
  const start = Buffer.from([0, 0, 0, 1]);
  for (const f of frames) {
    for (let off = 0; off + 4 <= f.data.length; ) {
      const len = f.data.readUInt32BE(off);
      parts.push(start, f.data.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
  }
  return Buffer.concat(parts);
}

/** An ffmpeg started ahead, waiting on its stdin for access units; `decode` returns the first frame as a JPEG. */
export interface JpegDecoder {
  readonly alive: boolean;
  decode(frames: MediaSample[]): Promise<Buffer>;
  kill(): void;
}

export function startDecoder(maxWidth: number, quality: number): JpegDecoder {
  const args = ["-hide_banner", "-loglevel", "error", "-threads", "1", "-f", "h264", "-i", "pipe:0"];
  args.push(
    "-vf",
    `scale='min(${maxWidth},iw)':-2`,
    "-frames:v",
    "1",
    "-q:v",
    String(quality),
    "-f",
    "mjpeg",
    "pipe:1",
  );
  const p = spawnTied("ffmpeg", args, { stdio: ["pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  let err = "";
  p.stdout!.on("data", (d: Buffer) => out.push(d));
  p.stderr!.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-4096);
  });
  p.stdin!.on("error", () => undefined);
  const done = new Promise<Buffer>((resolve, reject) => {
    p.on("error", reject);
    p.on("close", (code) => {
      const jpeg = Buffer.concat(out);
      if (code === 0 && jpeg.length > 0) resolve(jpeg);
      else reject(new Error(`ffmpeg exited ${code}: ${err.trim().slice(0, 300)}`));
    });
  });
  done.catch(() => undefined);
  return {
    get alive() {
      return p.exitCode === null && p.signalCode === null;
    },
    decode(frames) {
      p.stdin!.end(annexB(frames));
      return done;
    },
    kill() {
      p.kill("SIGKILL");
    },
  };
}

/** Decode the access units and return the first frame as a JPEG (a fresh ffmpeg). */
export function decodeLast(frames: MediaSample[], maxWidth: number, quality: number): Promise<Buffer> {
  return startDecoder(maxWidth, quality).decode(frames);
}
