import type { Logger } from "pino";
import type { Microphone, Speaker } from "../../hal/audio.js";
import type { CallSession } from "./call-session.js";

/** The call's speaker volume (percent) and microphone gain (dB). */
export interface Volumes {
  speaker: number;
  micGainDb: number;
}

/**
 * The call's volumes: the config's until a `call.volume` sets them, then those until restart.
 * Apart from the session lifecycle because the command may read and change them at any time,
 * in a call or not, under its own rule (during an answered call, only its console).
 */
export class CallVolumes {
  private chosen: Volumes | undefined;

  constructor(
    private readonly d: {
      speaker: Speaker;
      mic: Microphone;
      configured: () => Volumes;
      session: () => CallSession | undefined;
      log: Logger;
    },
  ) {}

  current(): Volumes {
    return this.chosen ?? this.d.configured();
  }

  /**
   * Whether a `call.volume` may change the volumes now: during an answered call only the
   * console that answered it (its call token); with no call bound, the center.
   */
  mayControl(sessionId: string | undefined, token: string | undefined): boolean {
    const s = this.d.session();
    if (!s?.bound) return true;
    const ok = s.id === sessionId && s.holds(token);
    if (!ok) this.d.log.warn({ sessionId: s.id, officer: s.officer }, "call.volume refused: not the call's owner");
    return ok;
  }

  /** `call.volume`: applies at once (to a running speaker too) and stays until restart. */
  set(v: Partial<Volumes>): Volumes {
    const next = { ...this.current(), ...v };
    this.chosen = next;
    this.applyNow(next);
    return next;
  }

  /** Put the current volumes on the devices (before they start for a pickup). */
  apply(): void {
    this.applyNow(this.current());
  }

  private applyNow(v: Volumes): void {
    this.d.speaker.setVolume(v.speaker);
    this.d.mic.setGain(v.micGainDb);
  }
}
