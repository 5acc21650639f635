/**
 * Where an RTP packet's payload starts (after the fixed header, the CSRCs and any header
 * extension), or undefined when it is not a well-formed RTP version 2 packet.
 */
export function rtpPayloadOffset(p: Buffer): number | undefined {
  if (p.length < 12 || p[0]! >> 6 !== 2) return undefined;
  let off = 12 + (p[0]! & 0x0f) * 4;
  if (p[0]! & 0x10) {
    if (p.length < off + 4) return undefined;
    off += 4 + p.readUInt16BE(off + 2) * 4;
  }
  return off > p.length ? undefined : off;
}
