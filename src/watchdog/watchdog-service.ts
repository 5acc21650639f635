import type { Logger } from "pino";
import type { PillarBus } from "../bus/events.js";
/** Where the feed goes: systemd's notify socket (see systemd-notify.ts). */
export interface Notify {
  notify(message: string): boolean;
}

/** Faults that mean the button is not being watched: the line itself, or the I/O driver. */
const BUTTON_PATH_FAULTS = new Set(["button/line.failed", "hal/start.failed"]);

export interface WatchdogSettings {
  /** A tick later than this (the event loop was blocked) withholds the feed. */
  maxLoopLagMs: number;
  /** How long a dead button path may last before the feed stops (the in-process retries go first). */
  inputGraceS: number;
}

export interface WatchdogState {
  /** True when systemd asked for notifications (NOTIFY_SOCKET set). */
  systemd: boolean;
  intervalMs: number;
  feeds: number;
  /** Ticks on which the feed was withheld. */
  withheld: number;
  /** Why the last tick withheld the feed; null when the last tick fed. */
  withholding: string | null;
  /** The longest event-loop stall seen, in ms. */
  longestStallMs: number;
}

/**
 * Feeds systemd's watchdog (`WatchdogSec=` in the unit) only while the pillar can do its job: the
 * event loop turns (a blocked loop never reaches the tick, and a late tick is withheld) and the
 * button path is alive (a dead input line or I/O driver past `inputGraceS` stops the feed, so
 * systemd restarts the process — which reopens the device). Without `NOTIFY_SOCKET` it still
 * runs its checks, for the health message.
 */
export class WatchdogService {
  private timer: NodeJS.Timeout | undefined;
  private lastTick = 0;
  private readonly deadSince = new Map<string, number>();
  private offs: (() => void)[] = [];
  private readonly s: WatchdogState;

  constructor(
    private readonly o: {
      bus: PillarBus;
      /** Owned by the caller: it outlives a rebuild of the services. */
      notifier?: Notify;
      /** How often to feed: half of systemd's WATCHDOG_USEC. */
      intervalMs: number;
      settings: () => WatchdogSettings;
      log: Logger;
    },
  ) {
    this.s = {
      systemd: !!o.notifier,
      intervalMs: o.intervalMs,
      feeds: 0,
      withheld: 0,
      withholding: null,
      longestStallMs: 0,
    };
  }

  /** The feed period systemd asked for (half its WATCHDOG_USEC), or `fallbackMs`. */
  static intervalFromEnv(env: NodeJS.ProcessEnv, fallbackMs: number): number {
    const usec = Number(env.WATCHDOG_USEC);
    const forUs = !env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === process.pid;
    return forUs && Number.isFinite(usec) && usec > 0 ? Math.max(100, Math.floor(usec / 2000)) : fallbackMs;
  }

  async start(): Promise<void> {
    const { bus } = this.o;
    this.offs.push(
      bus.on("fault.raised", (f) => {
        const key = `${f.component}/${f.code}`;
        if (BUTTON_PATH_FAULTS.has(key) && !this.deadSince.has(key)) this.deadSince.set(key, f.at);
      }),
      bus.on("fault.cleared", (f) => this.deadSince.delete(`${f.component}/${f.code}`)),
    );
    // Started last among the core services: everything before it is up, so this is "ready".
    this.o.notifier?.notify("READY=1");
    this.lastTick = Date.now();
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const off of this.offs) off();
    this.offs = [];
  }

  state(): WatchdogState {
    return { ...this.s };
  }

  /** One feed decision; public so a test can drive it without waiting. */
  tick(now = Date.now()): void {
    const lag = now - this.lastTick - this.o.intervalMs;
    this.lastTick = now;
    const reason = this.reasonToWithhold(lag, now);
    if (lag > this.s.longestStallMs) this.s.longestStallMs = Math.max(0, lag);
    if (reason) {
      this.s.withheld++;
      if (reason !== this.s.withholding) this.o.log.error({ reason }, "watchdog: not feeding systemd");
      this.s.withholding = reason;
      return;
    }
    if (this.s.withholding) this.o.log.info("watchdog: feeding again");
    this.s.withholding = null;
    this.s.feeds++;
    this.o.notifier?.notify("WATCHDOG=1");
  }

  private reasonToWithhold(lag: number, now: number): string | null {
    const { maxLoopLagMs, inputGraceS } = this.o.settings();
    if (lag > maxLoopLagMs) return `event loop stalled ${Math.round(lag)} ms`;
    for (const [key, since] of this.deadSince) {
      if (now - since >= inputGraceS * 1000) return `${key} for ${Math.round((now - since) / 1000)} s`;
    }
    return null;
  }
}
