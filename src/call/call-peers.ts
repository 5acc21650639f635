import type { Logger } from "pino";
import type { CallSession, CallSettings } from "./call-session.js";
import type { CameraFeed } from "./camera-feed.js";
import { PeerSession, type PeerState } from "./peer-session.js";

/** Peer connections alive at once when the config does not say (the active one + one closing). */
export const DEFAULT_MAX_PEERS = 2;

/** What a session's current peer connection reports (events of a replaced one are dropped). */
export interface SessionPeerEvents {
  candidate(s: CallSession, candidate: string, mid: string): void;
  state(s: CallSession, st: PeerState): void;
  /** The officer's voice. */
  audio(s: CallSession, packet: Buffer): void;
}

/**
 * The call's peer connections: the active one and those still closing. A re-join or a request
 * storm builds new ones while old ones close, so they are counted here against
 * `maxPeerSessions`, and each one's events reach the session only while it is that session's.
 */
export class CallPeers {
  private readonly open = new Set<PeerSession>();

  constructor(
    private readonly d: {
      settings: () => CallSettings;
      camera: CameraFeed;
      log: Logger;
      events: SessionPeerEvents;
    },
  ) {}

  /** Peer connections open now (the active one and any still closing). */
  get size(): number {
    return this.open.size;
  }

  /** How many may be alive at once (`call.maxPeerSessions`). */
  get max(): number {
    return this.d.settings().maxPeerSessions ?? DEFAULT_MAX_PEERS;
  }

  /** A peer connection for `s` (the first, or a re-join's); its events count only while it is the session's. */
  make(s: () => CallSession, id: string): PeerSession {
    const cfg = this.d.settings();
    const on = this.d.events;
    const peer: PeerSession = new PeerSession({
      name: id,
      iceServers: cfg.iceServers,
      bindAddress: cfg.bindAddress,
      log: this.d.log.child({ sessionId: id }),
      onCandidate: (candidate, mid) => s().peer === peer && on.candidate(s(), candidate, mid),
      onState: (st) => s().peer === peer && on.state(s(), st),
      onAudio: (p) => (s().peer === peer ? on.audio(s(), p) : undefined),
      onVideoOpen: () => peer.sendBurst(this.d.camera.gop),
    });
    this.open.add(peer);
    return peer;
  }

  close(peer: PeerSession): Promise<void> {
    return peer.close().finally(() => this.open.delete(peer));
  }
}
