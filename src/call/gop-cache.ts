import { parseRtp, startsKeyframe } from "./rtp.js";

/**
 * Keeps the camera's current GOP: every RTP packet since the start of the last keyframe access
 * unit (SPS/PPS/IDR). A new viewer gets it first, so its decoder starts at once instead of
 * waiting up to a GOP for the next keyframe. Bounded in bytes; an oversized GOP is dropped.
 */
export class GopCache {
  private packets: Buffer[] = [];
  private bytes = 0;
  private keyTs: number | undefined;

  constructor(private readonly maxBytes = 4 * 1024 * 1024) {}

  push(p: Buffer): void {
    const h = parseRtp(p);
    if (!h) return;
    if (h.timestamp !== this.keyTs && startsKeyframe(p, h)) {
      this.packets = [];
      this.bytes = 0;
      this.keyTs = h.timestamp;
    }
    if (this.keyTs === undefined) return;
    this.packets.push(p);
    this.bytes += p.length;
    if (this.bytes > this.maxBytes) this.clear();
  }

  /** The cached packets, oldest first (a keyframe first), or [] before the first keyframe. */
  snapshot(): Buffer[] {
    return [...this.packets];
  }

  get size(): { packets: number; bytes: number } {
    return { packets: this.packets.length, bytes: this.bytes };
  }

  clear(): void {
    this.packets = [];
    this.bytes = 0;
    this.keyTs = undefined;
  }
}
