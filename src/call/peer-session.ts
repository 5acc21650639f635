import nodeDataChannel, { type PeerConnection, type Track } from "node-datachannel";
import type { Logger } from "pino";
import { settleWithin, withDeadline } from "../../hal/deadline.js";
import type { GopCache } from "./gop-cache.js";
import { releaseNativeMemorySoon } from "../util/native-memory.js";
import { isRtcp, parseRtp, RtpRewriter } from "./rtp.js";

const { PeerConnection: PC, Video, Audio, RtcpNackResponder, RtcpReceivingSession } = nodeDataChannel;

export const VIDEO_PT = 96;
export const AUDIO_PT = 111;
/** Announced H.264: constrained baseline 3.1, packetization-mode 1 (what every browser decodes). */
export const H264_FMTP = "profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1";
/** The longest wait for libdatachannel to confirm a close. */
const CLOSE_DEADLINE_MS = 3000;
/** The longest wait for the local offer (libdatachannel gathers no candidates before it). */
const OFFER_DEADLINE_MS = 10_000;
/** Output timestamp step between compressed burst frames (1 ms at 90 kHz). */
const BURST_STEP = 90;

export type PeerState = "new" | "connecting" | "connected" | "disconnected" | "failed" | "closed";

export interface PeerSessionOptions {
  name: string;
  iceServers: string[];
  /** Local address to gather on (tests: 127.0.0.1); undefined: every interface. */
  bindAddress?: string;
  log: Logger;
  onCandidate(candidate: string, mid: string): void;
  onState(state: PeerState): void;
  /** Opus RTP from the remote side (the officer's voice). */
  onAudio(packet: Buffer): void;
  /** The video track can take packets (DTLS-SRTP up): send the cached GOP now. */
  onVideoOpen(): void;
}

/**
 * One WebRTC peer connection (libdatachannel through node-datachannel) sending the camera's
 * H.264 RTP and the microphone's Opus RTP as they come (payload type and SSRC set to the
 * announced ones, nothing decoded), and receiving the remote Opus RTP.
 */
export class PeerSession {
  /** Peer connections open in this process (tests check that a hang-up leaves none). */
  static open = 0;
  private pc: PeerConnection | undefined;
  private video: Track | undefined;
  private audio: Track | undefined;
  private readonly videoSsrc = (Math.random() * 0xfffffff0 + 1) >>> 0;
  private readonly audioSsrc = (Math.random() * 0xfffffff0 + 1) >>> 0;
  private readonly videoRw = new RtpRewriter(this.videoSsrc, VIDEO_PT, 3000);
  private readonly audioRw = new RtpRewriter(this.audioSsrc, AUDIO_PT, 960);
  /** Media handlers kept referenced for the session's life (the native side uses them). */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: held only to keep the native handlers alive
  private handlers: unknown[] = [];
  private videoLive = false;
  private state: PeerState = "new";
  private closedWaiter: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private offerAborted: (() => void) | undefined;
  /** Video packets sent (burst included). */
  videoPackets = 0;
  audioPacketsIn = 0;

  constructor(private readonly o: PeerSessionOptions) {}

  /** Build the connection and resolve with the offer SDP. */
  createOffer(): Promise<string> {
    const o = this.o;
    const pc = new PC(o.name, { iceServers: o.iceServers, ...(o.bindAddress ? { bindAddress: o.bindAddress } : {}) });
    this.pc = pc;
    PeerSession.open++;
    pc.onStateChange((s) => {
      this.state = s as PeerState;
      if (s === "closed") this.closedWaiter?.();
      o.onState(this.state);
    });
    pc.onLocalCandidate((c, mid) => o.onCandidate(c, mid));
    const v = new Video("video", "SendOnly");
    v.addH264Codec(VIDEO_PT, H264_FMTP);
    v.addSSRC(this.videoSsrc, "pillar-camera", "pillar", "camera");
    this.video = pc.addTrack(v);
    const nack = new RtcpNackResponder(512);
    this.video.setMediaHandler(nack);
    this.video.onOpen(() => o.onVideoOpen());
    const a = new Audio("audio", "SendRecv");
    a.addOpusCodec(AUDIO_PT);
    a.addSSRC(this.audioSsrc, "pillar-mic", "pillar", "mic");
    this.audio = pc.addTrack(a);
    const rtcp = new RtcpReceivingSession();
    this.audio.setMediaHandler(rtcp);
    this.handlers = [nack, rtcp];
    this.audio.onMessage((m) => {
      if (isRtcp(m)) return;
      this.audioPacketsIn++;
      o.onAudio(m);
    });
    const sdp = new Promise<string>((resolve, reject) => {
      this.offerAborted = () => reject(new Error("peer closed before its offer was made"));
      pc.onLocalDescription((desc) => resolve(desc));
      pc.setLocalDescription();
    });
    return withDeadline(sdp, OFFER_DEADLINE_MS, "WebRTC offer").finally(() => {
      this.offerAborted = undefined;
    });
  }

  setAnswer(sdp: string): void {
    this.pc?.setRemoteDescription(sdp, "answer");
  }

  addCandidate(candidate: string, mid: string): void {
    try {
      this.pc?.addRemoteCandidate(candidate, mid);
    } catch (err) {
      this.o.log.debug({ err: (err as Error).message }, "remote candidate refused");
    }
  }

  get peerState(): PeerState {
    return this.state;
  }

  /**
   * Send the cached GOP at once, its frames' timestamps squeezed 1 ms apart so the receiver
   * decodes and shows them without building delay, then go live continuing from them.
   */
  sendBurst(cache: GopCache): void {
    const track = this.video;
    if (!track?.isOpen() || this.videoLive) return;
    const packets = cache.snapshot();
    let lastIn: number | undefined;
    let out = this.videoRw.lastTimestamp;
    let ssrc = 0;
    for (const p of packets) {
      const h = parseRtp(p);
      if (!h) continue;
      if (lastIn !== undefined && h.timestamp !== lastIn) out = (out + BURST_STEP) >>> 0;
      lastIn = h.timestamp;
      ssrc = h.ssrc;
      this.sendVideoPacket(track, this.videoRw.rewrite(p, h, out));
    }
    if (lastIn !== undefined) this.videoRw.anchor(lastIn, out, ssrc);
    this.videoLive = true;
    this.o.log.debug({ packets: packets.length }, "GOP burst sent");
  }

  /** A live camera packet (dropped until the burst went out). */
  sendVideo(p: Buffer): void {
    const track = this.video;
    if (!this.videoLive || !track?.isOpen()) return;
    const h = parseRtp(p);
    if (h) this.sendVideoPacket(track, this.videoRw.rewrite(p, h));
  }

  private sendVideoPacket(track: Track, p: Buffer): void {
    try {
      track.sendMessageBinary(p);
      this.videoPackets++;
    } catch {
      // closed under us: the state change ends the session
    }
  }

  sendAudio(p: Buffer): void {
    const track = this.audio;
    if (!track?.isOpen()) return;
    const h = parseRtp(p);
    if (!h) return;
    try {
      track.sendMessageBinary(this.audioRw.rewrite(p, h));
    } catch {
      // see sendVideoPacket
    }
  }

  /**
   * Close the connection; resolves once libdatachannel reports it closed (its UDP sockets are
   * released then) or, at the latest, after a deadline. Idempotent.
   */
  close(): Promise<void> {
    const pc = this.pc;
    this.pc = undefined;
    if (!pc) return this.closing ?? Promise.resolve();
    PeerSession.open--;
    this.offerAborted?.();
    const closed = this.state === "closed" ? Promise.resolve() : new Promise<void>((r) => (this.closedWaiter = r));
    try {
      this.video?.close();
      this.audio?.close();
      pc.close();
    } catch {
      // already closed
    }
    this.video = undefined;
    this.audio = undefined;
    this.handlers = [];
    this.closing = settleWithin(closed, CLOSE_DEADLINE_MS, undefined).finally(() => {
      this.closedWaiter = undefined;
      releaseNativeMemorySoon();
    });
    return this.closing;
  }
}
