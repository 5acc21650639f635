import type { Logger } from "pino";
import type { PillarConfig } from "../../config/schema.js";
import { DAILY, SUPERVISED } from "./all-checks.js";
import { SelftestBusy, type SelftestService } from "./selftest-service.js";

type Settings = PillarConfig["selftest"];

/** Milliseconds from `now` to the next `hour`:00 local time (today's if still ahead). */
export function msUntilHour(now: Date, hour: number): number {
  const next = new Date(now);
  next.setHours(hour, 0, 0, 0);
  if (next.getTime() <= now.getTime()) next.setDate(next.getDate() + 1);
  return next.getTime() - now.getTime();
}

/**
 * Supervision around the clock: the non-intrusive checks every `intervalS`, and the audio loop
 * once a day at `audioHour` (local time). A daily test that finds a call or an open incident
 * (or another self-test) is postponed by `audioRetryS` and tried again until it ran. Failures
 * and recoveries become faults through the self-test service.
 */
export class Supervision {
  private roundTimer: NodeJS.Timeout | undefined;
  private dailyTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  /** Daily runs postponed since the last one that ran (tests, health). */
  postponed = 0;

  constructor(private readonly o: { service: SelftestService; settings: () => Settings; log: Logger }) {}

  async start(): Promise<void> {
    this.stopped = false;
    // the first round after one interval: a pillar that just started proves itself by running
    this.roundTimer = setTimeout(() => void this.round(), this.o.settings().intervalS * 1000);
    this.planDaily();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.roundTimer);
    clearTimeout(this.dailyTimer);
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.o.service.run({ trigger: "supervision", only: SUPERVISED });
    } catch (err) {
      if (!(err instanceof SelftestBusy)) this.o.log.warn({ err: (err as Error).message }, "supervision round failed");
    }
    if (!this.stopped) this.roundTimer = setTimeout(() => void this.round(), this.o.settings().intervalS * 1000);
  }

  private planDaily(delayMs = msUntilHour(new Date(), this.o.settings().audioHour)): void {
    clearTimeout(this.dailyTimer);
    this.dailyTimer = setTimeout(() => void this.daily(), delayMs);
  }

  private async daily(): Promise<void> {
    if (this.stopped) return;
    const { service, settings, log } = this.o;
    if (service.busy() || service.isRunning()) {
      this.postponed++;
      log.info({ retryInS: settings().audioRetryS }, "daily audio test postponed: the pillar is busy");
      return this.planDaily(settings().audioRetryS * 1000);
    }
    try {
      const r = await service.run({ trigger: "daily", only: DAILY });
      const audio = r.checks.find((c) => c.component === "audio");
      if (audio?.status === "skip") {
        // a call came while it ran: the test gave way; try again later
        this.postponed++;
        return this.planDaily(settings().audioRetryS * 1000);
      }
      this.postponed = 0;
    } catch (err) {
      log.warn({ err: (err as Error).message }, "daily audio test failed to run");
      if (err instanceof SelftestBusy) return this.planDaily(settings().audioRetryS * 1000);
    }
    this.planDaily();
  }

  state(): Record<string, unknown> {
    return { postponedDaily: this.postponed };
  }
}
