/** An RTP packet (version 2, no CSRC) carrying `payload` as is: one NAL unit or one Opus frame. */
export function rtp(pt: number, seq: number, ts: number, ssrc: number, payload: Buffer, marker: boolean): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | pt;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}
