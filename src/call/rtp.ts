import { rtpPayloadOffset } from "../../hal/rtp-header.js";

/**
 * Just enough RTP (RFC 3550) and H.264 RTP (RFC 6184) to forward an encoder's packets into a
 * WebRTC track without decoding anything: header fields, NAL unit types, and a rewriter that
 * sets the announced SSRC/payload type and keeps sequence numbers and timestamps continuous
 * across encoder restarts.
 */
export interface RtpHeader {
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload. */
  payloadOffset: number;
}

export function parseRtp(p: Buffer): RtpHeader | undefined {
  const off = rtpPayloadOffset(p);
  if (off === undefined) return undefined;
  return {
    payloadType: p[1]! & 0x7f,
    marker: (p[1]! & 0x80) !== 0,
    seq: p.readUInt16BE(2),
    timestamp: p.readUInt32BE(4),
    ssrc: p.readUInt32BE(8),
    payloadOffset: off,
  };
}

/** RTCP packet types 192..223 share the second byte's range with RTP marker+PT 64..95. */
export function isRtcp(p: Buffer): boolean {
  return p.length >= 2 && p[1]! >= 192 && p[1]! <= 223;
}

export const NAL = { SLICE: 1, IDR: 5, SEI: 6, SPS: 7, PPS: 8, STAP_A: 24, FU_A: 28 } as const;

/**
 * The H.264 NAL unit types that start in this packet: a single NAL unit, each unit of a STAP-A,
 * or the unit a FU-A starts (none for a continuation fragment).
 */
export function h264NalTypes(p: Buffer, h = parseRtp(p)): number[] {
  if (!h || h.payloadOffset >= p.length) return [];
  const first = p[h.payloadOffset]! & 0x1f;
  if (first >= 1 && first <= 23) return [first];
  if (first === NAL.FU_A) {
    const fu = p[h.payloadOffset + 1];
    return fu !== undefined && fu & 0x80 ? [fu & 0x1f] : [];
  }
  if (first === NAL.STAP_A) {
    const types: number[] = [];
    let off = h.payloadOffset + 1;
    while (off + 2 < p.length) {
      const size = p.readUInt16BE(off);
      if (size === 0 || off + 2 + size > p.length) break;
      types.push(p[off + 2]! & 0x1f);
      off += 2 + size;
    }
    return types;
  }
  return [];
}

/** True when this packet starts a keyframe access unit (carries SPS or the start of an IDR). */
export function startsKeyframe(p: Buffer, h = parseRtp(p)): boolean {
  const t = h264NalTypes(p, h);
  return t.includes(NAL.SPS) || t.includes(NAL.IDR);
}

/**
 * Rewrites forwarded packets for one outgoing track: the announced SSRC and payload type, its
 * own sequence numbers (continuous, random start), and timestamps moved by an offset that is
 * recomputed when the source changes (encoder restarted: new SSRC or a jump), so the receiver
 * sees one unbroken stream.
 */
export class RtpRewriter {
  private seq = (Math.random() * 0xffff) & 0xffff;
  private offset: number | undefined;
  private srcSsrc: number | undefined;
  private lastInTs = 0;
  private lastOutTs = (Math.random() * 0xffffffff) >>> 0;
  /** Packets written. */
  count = 0;

  constructor(
    readonly ssrc: number,
    readonly payloadType: number,
    /** Timestamp step assumed between the last packet of one source and the first of the next. */
    private readonly gapTicks: number,
  ) {}

  /** Output timestamp for an input timestamp (sets the offset on a new source). */
  private mapTs(h: RtpHeader): number {
    const jump = this.offset !== undefined && Math.abs((h.timestamp - this.lastInTs) | 0) > 10 * 90_000;
    if (this.offset === undefined || h.ssrc !== this.srcSsrc || jump) {
      const start = this.count === 0 ? this.lastOutTs : this.lastOutTs + this.gapTicks;
      this.offset = (start - h.timestamp) >>> 0;
      this.srcSsrc = h.ssrc;
    }
    this.lastInTs = h.timestamp;
    this.lastOutTs = (h.timestamp + this.offset) >>> 0;
    return this.lastOutTs;
  }

  /**
   * Continue an input stream so that input timestamp `inTs` maps to output `outTs` (used after
   * a burst of cached packets whose timestamps were compressed).
   */
  anchor(inTs: number, outTs: number, ssrc: number): void {
    this.offset = (outTs - inTs) >>> 0;
    this.srcSsrc = ssrc;
    this.lastInTs = inTs;
    this.lastOutTs = outTs >>> 0;
  }

  get lastTimestamp(): number {
    return this.lastOutTs;
  }

  /** A rewritten copy of `p`; `ts` forces the output timestamp (burst). */
  rewrite(p: Buffer, h: RtpHeader, ts?: number): Buffer {
    const out = Buffer.from(p);
    out[1] = (out[1]! & 0x80) | (this.payloadType & 0x7f);
    out.writeUInt16BE(this.seq, 2);
    this.seq = (this.seq + 1) & 0xffff;
    if (ts === undefined) out.writeUInt32BE(this.mapTs(h), 4);
    else {
      this.lastOutTs = ts >>> 0;
      out.writeUInt32BE(this.lastOutTs, 4);
    }
    out.writeUInt32BE(this.ssrc >>> 0, 8);
    this.count++;
    return out;
  }
}
