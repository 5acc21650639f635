import { NAL, parseRtp, type RtpHeader } from "../call/rtp.js";

/** The recorded tracks: the camera, the pillar's microphone, the officer's voice. */
export type TrackName = "video" | "mic" | "officer";

export const TIMESCALE: Record<TrackName, number> = { video: 90_000, mic: 48_000, officer: 48_000 };

/** One media sample on the recorder's own timeline (monotonic per track, across camera restarts). */
export interface MediaSample {
  track: TrackName;
  /** Decode time in the track's timescale since the recorder's epoch. */
  dts: number;
  /** Wall-clock time of the sample (ms), from the same timeline. */
  at: number;
  /** H.264: length-prefixed NAL units (AVCC); Opus: one packet. */
  data: Buffer;
  /** H.264 IDR access unit (every audio sample is a sync sample). */
  key: boolean;
}

/** One H.264 access unit reassembled from RTP (RFC 6184: single NAL, STAP-A, FU-A). */
export interface AccessUnit {
  ssrc: number;
  timestamp: number;
  nalus: Buffer[];
  key: boolean;
}

/**
 * Reassembles the camera's RTP packets into access units without decoding anything. A lost
 * packet (sequence gap) drops the unit it belongs to and everything up to the next keyframe,
 * so a recording never holds a frame whose reference is missing.
 */
export class H264Assembler {
  private nalus: Buffer[] = [];
  private fu: Buffer[] | undefined;
  private ts: number | undefined;
  private ssrc = 0;
  private lastSeq: number | undefined;
  private broken = false;
  private needKey = true;

  /** Feed one packet; returns the access units it completed (0, 1 or 2). */
  push(p: Buffer, h: RtpHeader | undefined = parseRtp(p)): AccessUnit[] {
    if (!h || h.payloadOffset >= p.length) return [];
    const out: AccessUnit[] = [];
    if (this.ssrc !== h.ssrc || (this.lastSeq !== undefined && h.seq !== ((this.lastSeq + 1) & 0xffff))) {
      if (this.ssrc !== h.ssrc) this.flush(out);
      else this.broken = true;
      this.ssrc = h.ssrc;
    }
    this.lastSeq = h.seq;
    if (this.ts !== undefined && h.timestamp !== this.ts) this.flush(out);
    this.ts = h.timestamp;
    this.take(p, h.payloadOffset);
    if (h.marker) this.flush(out);
    return out;
  }

  private take(p: Buffer, off: number): void {
    const type = p[off]! & 0x1f;
    if (type >= 1 && type <= 23) this.nalus.push(p.subarray(off));
    else if (type === NAL.STAP_A) {
      let i = off + 1;
      while (i + 2 <= p.length) {
        const size = p.readUInt16BE(i);
        if (size === 0 || i + 2 + size > p.length) break;
        this.nalus.push(p.subarray(i + 2, i + 2 + size));
        i += 2 + size;
      }
    } else if (type === NAL.FU_A && off + 1 < p.length) {
      const fuHeader = p[off + 1]!;
      if (fuHeader & 0x80) this.fu = [Buffer.from([(p[off]! & 0xe0) | (fuHeader & 0x1f)])];
      else if (!this.fu) {
        this.broken = true;
        return;
      }
      this.fu.push(p.subarray(off + 2));
      if (fuHeader & 0x40) {
        this.nalus.push(Buffer.concat(this.fu));
        this.fu = undefined;
      }
    }
  }

  private flush(out: AccessUnit[]): void {
    const nalus = this.nalus;
    const ts = this.ts;
    this.nalus = [];
    this.fu = undefined;
    const broken = this.broken;
    this.broken = false;
    if (ts === undefined || nalus.length === 0) return;
    const key = nalus.some((n) => (n[0]! & 0x1f) === NAL.IDR);
    if (broken) {
      this.needKey = true;
      return;
    }
    if (this.needKey && !key) return;
    this.needKey = false;
    out.push({ ssrc: this.ssrc, timestamp: ts, nalus, key });
  }
}

/** The access unit as MP4 sample data: each NAL unit with a 4-byte length. */
export function avccData(nalus: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const n of nalus) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(n.length);
    parts.push(len, n);
  }
  return Buffer.concat(parts);
}

/** SPS and PPS of a keyframe access unit, if it carries them in-band (every camera driver does). */
export function parameterSets(nalus: Buffer[]): { sps: Buffer; pps: Buffer } | undefined {
  const sps = nalus.find((n) => (n[0]! & 0x1f) === NAL.SPS);
  const pps = nalus.find((n) => (n[0]! & 0x1f) === NAL.PPS);
  return sps && pps ? { sps: Buffer.from(sps), pps: Buffer.from(pps) } : undefined;
}

/**
 * Maps one track's RTP timestamps onto the recorder's timeline. Within one source (SSRC) the
 * RTP clock is kept as is; a new source (encoder restarted), a jump or a step backwards is
 * re-anchored at its arrival time, never before the previous sample: timestamps stay monotonic
 * across camera restarts and the gap shows as the time the camera was away.
 */
export class TrackClock {
  private ssrc: number | undefined;
  private anchorRtp = 0;
  private anchorOut = 0;
  private last = -1;

  constructor(
    private readonly rate: number,
    private readonly epochMs: number,
    /** Smallest step between two samples (one frame). */
    private readonly stepTicks: number,
  ) {}

  map(ssrc: number, rtpTs: number, arrivalMs: number): number {
    let out = this.anchorOut + ((rtpTs - this.anchorRtp) | 0);
    const jump = Math.abs(out - this.last) > 10 * this.rate;
    if (this.ssrc !== ssrc || jump || out <= this.last) {
      const arrival = Math.round(((arrivalMs - this.epochMs) * this.rate) / 1000);
      out = this.last < 0 ? Math.max(0, arrival) : Math.max(this.last + this.stepTicks, arrival);
      this.ssrc = ssrc;
    }
    // Re-anchored at every sample, so only deltas count and the 32-bit RTP clock may wrap.
    this.anchorRtp = rtpTs;
    this.anchorOut = out;
    this.last = out;
    return out;
  }

  /** Wall-clock ms of a mapped timestamp. */
  wall(dts: number): number {
    return this.epochMs + (dts * 1000) / this.rate;
  }
}
