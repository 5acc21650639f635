import { describe, expect, it } from "vitest";
import { OggOpusWriter } from "../../hal/audio-ogg.js";
import { GopCache } from "../../src/call/gop-cache.js";
import { h264NalTypes, isRtcp, parseRtp, RtpRewriter, startsKeyframe } from "../../src/call/rtp.js";

function rtp(o: { seq: number; ts: number; ssrc?: number; marker?: boolean; payload: number[] }): Buffer {
  const b = Buffer.alloc(12 + o.payload.length);
  b[0] = 0x80;
  b[1] = (o.marker ? 0x80 : 0) | 96;
  b.writeUInt16BE(o.seq, 2);
  b.writeUInt32BE(o.ts >>> 0, 4);
  b.writeUInt32BE(o.ssrc ?? 1234, 8);
  Buffer.from(o.payload).copy(b, 12);
  return b;
}
const stapSpsPps = [24, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce];
const fuIdrStart = [28, 0x85, 1, 2, 3];
const fuIdrMid = [28, 0x05, 4, 5];
const fuPStart = [28, 0x81, 1];
const singleP = [0x41, 9, 9];

describe("RTP / H.264 helpers", () => {
  it("finds NAL types in single NAL, STAP-A and FU-A packets; keyframe starts", () => {
    expect(h264NalTypes(rtp({ seq: 1, ts: 0, payload: stapSpsPps }))).toEqual([7, 8]);
    expect(h264NalTypes(rtp({ seq: 1, ts: 0, payload: fuIdrStart }))).toEqual([5]);
    expect(h264NalTypes(rtp({ seq: 1, ts: 0, payload: fuIdrMid }))).toEqual([]);
    expect(h264NalTypes(rtp({ seq: 1, ts: 0, payload: singleP }))).toEqual([1]);
    expect(startsKeyframe(rtp({ seq: 1, ts: 0, payload: fuIdrStart }))).toBe(true);
    expect(startsKeyframe(rtp({ seq: 1, ts: 0, payload: fuPStart }))).toBe(false);
    expect(isRtcp(Buffer.from([0x80, 200, 0, 6]))).toBe(true);
    expect(isRtcp(rtp({ seq: 1, ts: 0, payload: singleP }))).toBe(false);
    expect(parseRtp(Buffer.from([1, 2, 3]))).toBeUndefined();
  });

  it("the GOP cache holds everything from the last keyframe's SPS on", () => {
    const gop = new GopCache();
    gop.push(rtp({ seq: 1, ts: 100, payload: singleP, marker: true })); // before any keyframe: dropped
    expect(gop.size.packets).toBe(0);
    const key = [
      rtp({ seq: 2, ts: 200, payload: stapSpsPps }),
      rtp({ seq: 3, ts: 200, payload: fuIdrStart }),
      rtp({ seq: 4, ts: 200, payload: fuIdrMid, marker: true }),
    ];
    const p1 = rtp({ seq: 5, ts: 300, payload: singleP, marker: true });
    for (const p of [...key, p1]) gop.push(p);
    expect(gop.snapshot()).toEqual([...key, p1]);
    gop.push(rtp({ seq: 6, ts: 400, payload: stapSpsPps }));
    expect(gop.snapshot().map((p) => p.readUInt16BE(2))).toEqual([6]);
    const small = new GopCache(100);
    for (const p of key) small.push(p);
    small.push(rtp({ seq: 9, ts: 500, payload: new Array(120).fill(0x41) }));
    expect(small.size.packets).toBe(0); // oversized: dropped rather than grown
  });

  it("the rewriter sets SSRC/PT, keeps sequence numbers and timestamps continuous across an encoder restart", () => {
    const rw = new RtpRewriter(0xabcdef, 102, 3000);
    const outs = [
      rw.rewrite(
        rtp({ seq: 10, ts: 1000, ssrc: 1, payload: singleP }),
        parseRtp(rtp({ seq: 10, ts: 1000, ssrc: 1, payload: singleP }))!,
      ),
      rw.rewrite(
        rtp({ seq: 11, ts: 4000, ssrc: 1, payload: singleP }),
        parseRtp(rtp({ seq: 11, ts: 4000, ssrc: 1, payload: singleP }))!,
      ),
      // restarted encoder: new SSRC, random timestamp and sequence base
      rw.rewrite(
        rtp({ seq: 50000, ts: 999_999_999, ssrc: 2, payload: singleP, marker: true }),
        parseRtp(rtp({ seq: 50000, ts: 999_999_999, ssrc: 2, payload: singleP, marker: true }))!,
      ),
    ].map((b) => parseRtp(b)!);
    expect(outs.every((h) => h.ssrc === 0xabcdef && h.payloadType === 102)).toBe(true);
    expect(outs.map((h) => (h.seq - outs[0]!.seq + 0x10000) & 0xffff)).toEqual([0, 1, 2]);
    expect((outs[1]!.timestamp - outs[0]!.timestamp) >>> 0).toBe(3000);
    expect((outs[2]!.timestamp - outs[1]!.timestamp) >>> 0).toBe(3000);
    expect(outs[2]!.marker).toBe(true);
  });

  it("Ogg Opus pages: header pages first, one page per RTP payload, granule from the RTP clock, valid CRC", () => {
    // An independent bit-by-bit Ogg CRC-32 (poly 0x04c11db7, not reflected, init 0).
    const crc32 = (buf: Buffer) => {
      let c = 0;
      for (const byte of buf) {
        c ^= byte << 24;
        for (let i = 0; i < 8; i++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
      }
      return c >>> 0;
    };
    const check = (page: Buffer) => {
      const z = Buffer.from(page);
      z.writeUInt32LE(0, 22);
      expect(page.readUInt32LE(22)).toBe(crc32(z));
    };
    const w = new OggOpusWriter();
    const head = w.header();
    expect(head.subarray(0, 4).toString()).toBe("OggS");
    expect(head[5]).toBe(0x02); // beginning of stream
    const firstLen = 27 + head[26]! + head.subarray(27, 27 + head[26]!).reduce((a, b) => a + b, 0);
    check(head.subarray(0, firstLen));
    check(head.subarray(firstLen));
    expect(head.subarray(28, 36).toString()).toBe("OpusHead");
    const big = new Array(300).fill(7);
    const page = w.packet(rtp({ seq: 1, ts: 5000, payload: big }))!;
    check(page);
    expect(page[26]).toBe(2); // 300 bytes: lacing 255 + 45
    expect([page[27], page[28]]).toEqual([255, 45]);
    expect(page.readBigInt64LE(6)).toBe(960n);
    const next = w.packet(rtp({ seq: 2, ts: 5960, payload: [1, 2] }))!;
    expect(next.readBigInt64LE(6)).toBe(1920n);
    expect(next.readUInt32LE(18)).toBe(page.readUInt32LE(18) + 1);
  });
});
