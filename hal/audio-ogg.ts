import { rtpPayloadOffset } from "./rtp-header.js";

/**
 * Wraps Opus RTP payloads into an Ogg Opus stream (RFC 7845), so a playback ffmpeg reads it on
 * its stdin: no UDP port is opened for the speaker (nothing on the network can inject sound).
 */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

function oggCrc(buf: Buffer): number {
  let crc = 0;
  for (const b of buf) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  return crc;
}

/** The payload of an RTP packet (after CSRCs and the header extension, before padding). */
export function rtpPayload(p: Buffer): Buffer | undefined {
  const off = rtpPayloadOffset(p);
  if (off === undefined) return undefined;
  let end = p.length;
  if (p[0]! & 0x20) end -= p[p.length - 1]!;
  return end > off ? p.subarray(off, end) : undefined;
}

export class OggOpusWriter {
  private seq = 0;
  private readonly serial = (Math.random() * 0xffffffff) >>> 0;
  private firstTs: number | undefined;

  constructor(private readonly channels = 1) {}

  private page(data: Buffer, granule: bigint, flags: number): Buffer {
    const lacing: number[] = [];
    let n = data.length;
    while (n >= 255) {
      lacing.push(255);
      n -= 255;
    }
    lacing.push(n);
    const h = Buffer.alloc(27 + lacing.length);
    h.write("OggS", 0, "latin1");
    h[4] = 0;
    h[5] = flags;
    h.writeBigInt64LE(granule, 6);
    h.writeUInt32LE(this.serial, 14);
    h.writeUInt32LE(this.seq++, 18);
    h[26] = lacing.length;
    for (const [i, v] of lacing.entries()) h[27 + i] = v;
    const page = Buffer.concat([h, data]);
    page.writeUInt32LE(oggCrc(page), 22);
    return page;
  }

  /** The two header pages (OpusHead, OpusTags). */
  header(): Buffer {
    const head = Buffer.alloc(19);
    head.write("OpusHead", 0, "latin1");
    head[8] = 1;
    head[9] = this.channels;
    head.writeUInt16LE(0, 10);
    head.writeUInt32LE(48_000, 12);
    const vendor = Buffer.from("alarm-pillar");
    const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
    tags.write("OpusTags", 0, "latin1");
    tags.writeUInt32LE(vendor.length, 8);
    vendor.copy(tags, 12);
    return Buffer.concat([this.page(head, 0n, 0x02), this.page(tags, 0n, 0)]);
  }

  /** One Opus RTP packet → one Ogg page (granule from the RTP timestamp, 48 kHz). */
  packet(rtp: Buffer): Buffer | undefined {
    const payload = rtpPayload(rtp);
    if (!payload) return undefined;
    const ts = rtp.readUInt32BE(4);
    this.firstTs ??= ts;
    const granule = BigInt(((ts - this.firstTs) >>> 0) + 960);
    return this.page(payload, granule, 0);
  }
}
