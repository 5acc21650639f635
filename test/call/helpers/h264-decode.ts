import { spawn } from "node:child_process";
import { parseRtp } from "../../../src/call/rtp.js";

const START = Buffer.from([0, 0, 0, 1]);

/** RTP (RFC 6184: single NAL, STAP-A, FU-A) → Annex-B byte stream, for decoding in tests. */
export function depacketize(packets: Buffer[]): Buffer {
  const out: Buffer[] = [];
  for (const p of packets) {
    const h = parseRtp(p);
    if (!h) continue;
    const pl = p.subarray(h.payloadOffset);
    const type = pl[0]! & 0x1f;
    if (type >= 1 && type <= 23) out.push(START, pl);
    else if (type === 24) {
      for (let off = 1; off + 2 < pl.length; ) {
        const size = pl.readUInt16BE(off);
        out.push(START, pl.subarray(off + 2, off + 2 + size));
        off += 2 + size;
      }
    } else if (type === 28) {
      const fu = pl[1]!;
      if (fu & 0x80) out.push(START, Buffer.from([(pl[0]! & 0xe0) | (fu & 0x1f)]));
      out.push(pl.subarray(2));
    }
  }
  return Buffer.concat(out);
}

export interface DecodedFrames {
  /** MD5 of each decoded picture (equal for a frozen picture). */
  md5: string[];
  /** Average luma of each picture (16 = black in limited range). */
  yavg: number[];
  /** Average luma difference to the previous picture (about 0 for a frozen picture). */
  ydif: number[];
}

/** Decode an H.264 RTP capture with ffmpeg; per-frame MD5 and average luma. */
export function decode(packets: Buffer[]): Promise<DecodedFrames> {
  return new Promise((resolve, reject) => {
    const ff = spawn("ffmpeg", [
      "-hide_banner",
      "-nostats",
      "-loglevel",
      "info",
      "-f",
      "h264",
      "-i",
      "pipe:0",
      "-vf",
      "signalstats,metadata=mode=print:key=lavfi.signalstats.YAVG,metadata=mode=print:key=lavfi.signalstats.YDIF",
      "-f",
      "framemd5",
      "pipe:1",
    ]);
    let out = "";
    let err = "";
    ff.stdout.on("data", (d: Buffer) => (out += d.toString()));
    ff.stderr.on("data", (d: Buffer) => (err += d.toString()));
    ff.on("error", reject);
    ff.on("close", () => {
      const md5 = out
        .split("\n")
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => l.split(",").pop()!.trim());
      const yavg = [...err.matchAll(/YAVG=([\d.]+)/g)].map((m) => Number(m[1]));
      const ydif = [...err.matchAll(/YDIF=([\d.]+)/g)].map((m) => Number(m[1]));
      resolve({ md5, yavg, ydif });
    });
    ff.stdin.end(depacketize(packets));
  });
}
