import { parseRtp } from "../call/rtp.js";
import { H264Assembler, type MediaSample, TIMESCALE, TrackClock, type TrackName, avccData } from "./media-samples.js";

/**
 * The call's RTP as media samples on the recorder's timeline: the camera's packets reassembled
 * into access units, every track's RTP timestamps mapped onto one monotonic clock (a camera or
 * microphone restart changes SSRC and timestamps). Nothing is decoded. Apart from the Recorder
 * so that the recorder deals in samples only, whatever transport brought them.
 */
export class RtpSampler {
  private readonly h264 = new H264Assembler();
  private clocks!: Record<TrackName, TrackClock>;

  /** Start the track clocks at `epoch` (recorder clock, ms); the video step is one frame at `fps`. */
  startClocks(epoch: number, fps: number): void {
    this.clocks = {
      video: new TrackClock(TIMESCALE.video, epoch, Math.round(TIMESCALE.video / fps)),
      mic: new TrackClock(TIMESCALE.mic, epoch, 960),
      officer: new TrackClock(TIMESCALE.officer, epoch, 960),
    };
  }

  /** The video samples one camera RTP packet completes (0, 1 or 2); `now` is read for a valid packet only. */
  video(p: Buffer, now: () => number): MediaSample[] {
    const h = parseRtp(p);
    if (!h) return [];
    const arrival = now();
    return this.h264.push(p, h).map((au) => {
      const dts = this.clocks.video.map(au.ssrc, au.timestamp, arrival);
      return { track: "video", dts, at: this.clocks.video.wall(dts), data: avccData(au.nalus), key: au.key };
    });
  }

  /** The Opus sample of one audio RTP packet, or undefined for an invalid or empty one. */
  audio(track: "mic" | "officer", p: Buffer, now: () => number): MediaSample | undefined {
    const h = parseRtp(p);
    if (!h || h.payloadOffset >= p.length) return undefined;
    const dts = this.clocks[track].map(h.ssrc, h.timestamp, now());
    const data = Buffer.from(p.subarray(h.payloadOffset));
    return { track, dts, at: this.clocks[track].wall(dts), data, key: true };
  }
}
