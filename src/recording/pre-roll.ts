import type { MediaSample } from "./media-samples.js";

/**
 * The last seconds of camera and microphone, in memory only (an idle pillar writes nothing):
 * video kept from a keyframe at least `keepMs` old, so a clip can start with a decodable frame
 * at least that far back; audio kept from the first video sample kept. Bounded in bytes too:
 * when over, whole GOPs go from the front.
 */
export class PreRollBuffer {
  private video: MediaSample[] = [];
  private audio: MediaSample[] = [];
  private bytes = 0;

  constructor(
    private readonly keepMs: () => number,
    private readonly maxBytes: () => number,
  ) {}

  push(s: MediaSample): void {
    if (s.track === "officer") return; // the officer's voice exists only during a call
    (s.track === "video" ? this.video : this.audio).push(s);
    this.bytes += s.data.length;
    if (s.track === "video" && s.key) this.trim(s.at);
    else if (s.track !== "video" && this.video.length === 0) this.trimAudio(s.at - this.keepMs());
  }

  /** The buffered samples from the latest keyframe at or before `at` (or the oldest one), video first. */
  from(at: number): MediaSample[] {
    let k = this.video.findIndex((s) => s.key);
    for (let i = k + 1; i < this.video.length; i++) {
      if (this.video[i]!.at > at) break;
      if (this.video[i]!.key) k = i;
    }
    if (k < 0) return [...this.audio.filter((s) => s.at >= at)];
    const video = this.video.slice(k);
    return [...video, ...this.audio.filter((s) => s.at >= video[0]!.at)];
  }

  get size(): { bytes: number; samples: number; spanMs: number } {
    const first = this.video[0] ?? this.audio[0];
    const last = this.video[this.video.length - 1] ?? this.audio[this.audio.length - 1];
    return {
      bytes: this.bytes,
      samples: this.video.length + this.audio.length,
      spanMs: first && last ? last.at - first.at : 0,
    };
  }

  clear(): void {
    this.video = [];
    this.audio = [];
    this.bytes = 0;
  }

  /** Drop GOPs that start before the newest keyframe old enough to cover `keepMs`, then over-budget GOPs. */
  private trim(now: number): void {
    const limit = now - this.keepMs();
    let cut = 0;
    for (let i = 1; i < this.video.length; i++) {
      const s = this.video[i]!;
      if (s.at > limit) break;
      if (s.key) cut = i;
    }
    this.dropVideo(cut);
    while (this.bytes > this.maxBytes()) {
      const next = this.video.findIndex((s, i) => i > 0 && s.key);
      if (next <= 0) break;
      this.dropVideo(next);
    }
    this.trimAudio(this.video[0]?.at ?? limit);
  }

  private dropVideo(n: number): void {
    for (let i = 0; i < n; i++) this.bytes -= this.video[i]!.data.length;
    if (n > 0) this.video = this.video.slice(n);
  }

  private trimAudio(before: number): void {
    let n = 0;
    while (n < this.audio.length && this.audio[n]!.at < before) this.bytes -= this.audio[n++]!.data.length;
    if (n > 0) this.audio = this.audio.slice(n);
  }
}
