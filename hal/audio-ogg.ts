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
  private ssrc: number | undefined;
  private base = 0;
  private lastGranule = 0;

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

  /**
   * One Opus RTP packet → one Ogg page (granule from the RTP timestamp, 48 kHz). A new SSRC (the
   * prompts, then the officer; a re-joined officer) continues the granule where the last left off.
   */
  packet(rtp: Buffer): Buffer | undefined {
    const payload = rtpPayload(rtp);
    if (!payload) return undefined;
    const ts = rtp.readUInt32BE(4);
    const ssrc = rtp.readUInt32BE(8);
    if (this.firstTs === undefined || ssrc !== this.ssrc) {
      this.base = this.lastGranule;
      this.firstTs = ts;
      this.ssrc = ssrc;
    }
    this.lastGranule = this.base + ((ts - this.firstTs) >>> 0) + 960;
    return this.page(payload, BigInt(this.lastGranule), 0);
  }
}

/** Samples (48 kHz) in one Opus packet, from its TOC byte (RFC 6716 §3.1); 0 when malformed. */
export function opusPacketSamples(packet: Buffer): number {
  if (packet.length < 1) return 0;
  const config = packet[0]! >> 3;
  const frame =
    config < 12
      ? [480, 960, 1920, 2880][config % 4]!
      : config < 16
        ? [480, 960][config % 2]!
        : [120, 240, 480, 960][config % 4]!;
  const code = packet[0]! & 3;
  const frames = code === 0 ? 1 : code < 3 ? 2 : packet.length > 1 ? packet[1]! & 0x3f : 0;
  return frame * frames;
}

/**
 * The Opus packets of an Ogg Opus file (RFC 7845), headers (OpusHead, OpusTags) left out.
 * Throws on anything that is not a well-formed single-stream Ogg Opus file.
 */
export function readOggOpus(file: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let partial: Buffer[] = [];
  let off = 0;
  let headers = 0;
  while (off < file.length) {
    if (off + 27 > file.length || file.toString("latin1", off, off + 4) !== "OggS")
      throw new Error(`not an Ogg page at byte ${off}`);
    const segments = file[off + 26]!;
    const table = off + 27;
    let data = table + segments;
    if (data > file.length) throw new Error("truncated Ogg page");
    for (let i = 0; i < segments; i++) {
      const len = file[table + i]!;
      if (data + len > file.length) throw new Error("truncated Ogg page");
      partial.push(file.subarray(data, data + len));
      data += len;
      if (len < 255) {
        const packet = Buffer.concat(partial);
        partial = [];
        if (headers < 2) {
          const magic = packet.toString("latin1", 0, 8);
          if (magic !== (headers === 0 ? "OpusHead" : "OpusTags")) throw new Error("not an Ogg Opus stream");
          headers++;
        } else if (packet.length > 0) packets.push(packet);
      }
    }
    off = data;
  }
  if (headers < 2) throw new Error("not an Ogg Opus stream (no headers)");
  return packets;
}
