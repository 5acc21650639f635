import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { PillarConfig } from "../../config/schema.js";
import type { DigitalInput } from "../../hal/digital-input.js";
import { createDrivers } from "../app/drivers.js";
import { PillarApp } from "../app/pillar-app.js";
import { validateConfig } from "../config/validate-config.js";
import { ClockSyncProbe } from "../events/clock-sync.js";

/** Where a simulated pillar stands (from an inventory row, or made up). */
export interface SimSite {
  id: string;
  location: PillarConfig["location"];
}

export interface FleetSimOptions {
  sites: SimSite[];
  brokerUrl: string;
  failoverUrls?: string[];
  /** Each pillar's own folder (outbox journal, open incident) is created below this one. */
  dataDir: string;
  /** Button presses per minute across the whole fleet (0: none). */
  pressesPerMin: number;
  /** Now and then cut a pillar's link (its last will fires) or restart it, and bring it back. */
  faults: boolean;
  heartbeatS: number;
  /** Pillars connecting at the same time while the fleet starts. */
  startBatch?: number;
  version: string;
  log: Logger;
  /** Told of every press a pillar took, as it takes it (benchmarks time the way to the center). */
  onPress?: (press: SimPress) => void;
  /** Random source (tests may pass a seeded one). */
  random?: () => number;
}

/** A press a simulated pillar took: which pillar, when (ms since epoch, the contact edge). */
export interface SimPress {
  pillarId: string;
  at: number;
  /** performance.now() when the pillar took it (the debounced edge), for latency figures. */
  tookAt: number;
}

/** The simulated I/O's button hook (the sim driver offers it; real drivers do not). */
interface PressableInput extends DigitalInput {
  press(): void;
  release(): void;
}

function pressable(input: DigitalInput): PressableInput {
  const p = input as Partial<PressableInput>;
  if (typeof p.press !== "function" || typeof p.release !== "function")
    throw new Error("fleet simulator: the I/O driver has no press hook (hal.driver must be sim)");
  return input as PressableInput;
}

/** One simulated pillar: the real pillar software (PillarApp) on the sim I/O driver. */
class SimulatedPillar {
  app: PillarApp | undefined;
  down = false;

  constructor(
    readonly config: PillarConfig,
    private readonly o: FleetSimOptions,
    private readonly clock: ClockSyncProbe,
    /** Told of every press the pillar took (debounced, handed to its incident and outbox). */
    private readonly onPress: (press: SimPress) => void,
  ) {}

  async start(): Promise<void> {
    const app = new PillarApp({
      clock: this.clock,
      config: this.config,
      drivers: createDrivers,
      version: this.o.version,
      log: this.o.log,
    });
    await app.start();
    app.core.bus.on("button.pressed", (p) =>
      this.onPress({ pillarId: this.config.pillar.id, at: p.at, tookAt: performance.now() }),
    );
    this.app = app;
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    await app?.stop();
  }

  /** Press and release with a clean contact (held past the debounce window); false if it is off. */
  click(holdMs: number): boolean {
    const app = this.app;
    if (!app) return false;
    const button = pressable(app.core.drivers.io.button);
    button.press();
    setTimeout(() => button.release(), holdMs).unref();
    return true;
  }
}

/**
 * N pillars in one process, each the real pillar software: its own MQTT connection with the
 * retained status and last will, its own outbox journal on disk, health on its heartbeat, the
 * incident state machine, and the commands (incident.ack/close, ping…). Presses at a rate across
 * the fleet; with `faults`, links drop (the broker sends the will) and pillars restart.
 */
export class FleetSimulator {
  private readonly pillars: SimulatedPillar[] = [];
  /** Pending timers (presses, faults, comebacks), each removed when it fires. */
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly rnd: () => number;
  /** Every press a pillar took (a press on a pillar that a fault stopped within the debounce time is not one). */
  readonly presses: SimPress[] = [];
  /** Presses asked of the pillars (click made), taken or not. */
  clicks = 0;
  readonly faultsMade = { linkCuts: 0, restarts: 0 };
  private stopped = false;
  /** One clock probe for the fleet: they share the machine's clock (and it spawns timedatectl). */
  private readonly clock = new ClockSyncProbe();

  constructor(private readonly o: FleetSimOptions) {
    this.rnd = o.random ?? Math.random;
  }

  get count(): number {
    return this.pillars.length;
  }

  ids(): string[] {
    return this.pillars.map((p) => p.config.pillar.id);
  }

  private configFor(site: SimSite): PillarConfig {
    return validateConfig(
      {
        version: 1,
        pillar: { id: site.id, name: `simulated ${site.id}`, mode: "development" },
        location: site.location,
        broker: {
          url: this.o.brokerUrl,
          failoverUrls: this.o.failoverUrls ?? [],
          // a thousand pillars reconnecting at once after a broker restart: spread them out
          reconnectMs: 1000 + Math.floor(this.rnd() * 2000),
          connectTimeoutMs: 30_000,
        },
        hal: {
          driver: "sim",
          inputs: { button: { pin: 17 }, tamper: { pin: 27 } },
          outputs: { ready: { pin: 5 }, alarm: { pin: 6 }, answered: { pin: 13 }, strobe: { pin: 26 } },
        },
        dataDir: join(this.o.dataDir, site.id),
        control: { port: 0 },
        heartbeat: { intervalS: this.o.heartbeatS },
      },
      `simulated pillar ${site.id}`,
    );
  }

  /** Start every pillar (a batch at a time), then the presses and faults. */
  async start(): Promise<void> {
    await mkdir(this.o.dataDir, { recursive: true });
    await this.clock.start();
    for (const site of this.o.sites)
      this.pillars.push(
        new SimulatedPillar(this.configFor(site), this.o, this.clock, (p) => {
          this.presses.push(p);
          this.o.onPress?.(p);
        }),
      );
    const batch = this.o.startBatch ?? 50;
    for (let i = 0; i < this.pillars.length; i += batch) {
      if (this.stopped) return;
      await Promise.all(this.pillars.slice(i, i + batch).map((p) => p.start()));
    }
    this.o.log.info({ pillars: this.pillars.length }, "fleet simulator: every pillar started");
    if (this.o.pressesPerMin > 0) this.schedulePresses();
    if (this.o.faults) this.scheduleFaults();
  }

  /** Presses at the fleet's rate; the n-th press is due at start + n × interval (no drift). */
  private schedulePresses(): void {
    const every = 60_000 / this.o.pressesPerMin;
    const t0 = Date.now();
    let n = 0;
    const tick = () => {
      if (this.stopped) return;
      while (t0 + n * every <= Date.now()) {
        n++;
        this.pressRandom();
      }
      this.later(tick, Math.max(1, t0 + n * every - Date.now()));
    };
    this.later(tick, every);
  }

  /** Press the button of a random running pillar; false if none runs. */
  pressRandom(): boolean {
    const running = this.pillars.filter((p) => p.app);
    if (running.length === 0) return false;
    return this.press(running[Math.floor(this.rnd() * running.length)]!.config.pillar.id);
  }

  /** Press (and release) one pillar's button; false if that pillar is off. */
  press(pillarId: string): boolean {
    const p = this.pillars.find((x) => x.config.pillar.id === pillarId);
    if (!p?.click(60)) return false;
    this.clicks++;
    return true;
  }

  /** Every few seconds one pillar loses its link for 3–15 s, or restarts (2–8 s off). */
  private scheduleFaults(): void {
    const next = () => {
      if (this.stopped) return;
      this.later(() => void this.oneFault().finally(next), 2000 + this.rnd() * 4000);
    };
    next();
  }

  private async oneFault(): Promise<void> {
    const up = this.pillars.filter((p) => p.app && !p.down);
    const p = up[Math.floor(this.rnd() * up.length)];
    if (!p?.app) return;
    p.down = true;
    if (this.rnd() < 0.6) {
      this.faultsMade.linkCuts++;
      const awayMs = 3000 + this.rnd() * 12_000;
      p.app.core.uplink.interrupt(awayMs);
      this.later(() => (p.down = false), awayMs);
      return;
    }
    this.faultsMade.restarts++;
    await p.stop();
    this.later(
      () =>
        void p
          .start()
          .catch((err: unknown) => this.o.log.warn({ err, pillarId: p.config.pillar.id }, "restart failed"))
          .finally(() => (p.down = false)),
      2000 + this.rnd() * 6000,
    );
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  /** Presses made, per pillar. */
  pressCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const p of this.presses) counts[p.pillarId] = (counts[p.pillarId] ?? 0) + 1;
    return counts;
  }

  /**
   * Stop presses and faults; bring back every pillar that a fault took down and wait (up to
   * `drainMs`) until every outbox is empty, so no press made is left in a journal; then stop
   * every pillar (each says `offline`, retained).
   */
  async stop(drainMs = 30_000): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await new Promise((r) => setTimeout(r, 300)); // the last clicks pass the debounce window
    await Promise.all(this.pillars.filter((p) => !p.app).map((p) => p.start().catch(() => undefined)));
    const until = Date.now() + drainMs;
    const pending = () =>
      this.pillars.filter((p) => p.app && (p.app.core.outbox.depth > 0 || !p.app.core.uplink.isConnected()));
    while (pending().length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const left = pending().length;
    if (left) this.o.log.warn({ pillars: left }, "fleet simulator: outboxes not empty at stop");
    for (let i = 0; i < this.pillars.length; i += 100)
      await Promise.all(this.pillars.slice(i, i + 100).map((p) => p.stop()));
    await this.clock.stop();
  }
}
