import { resolve } from "node:path";
import type { Logger } from "pino";
import type { PillarConfig } from "../../config/schema.js";
import type { BusEvents } from "../bus/events.js";
import { LiveConfig } from "../config/live-config.js";
import type { ClockSyncProbe } from "../events/clock-sync.js";
import { rootLogger } from "../log/logger.js";
import { type AppCore, buildCore } from "./build-core.js";
import { DataDirLock } from "./data-dir-lock.js";
import { createDrivers, type DriverFactory } from "./drivers.js";
import type { Feature, Service } from "./feature.js";

/** What describes this process rather than the pillar (the run's flags): laid over every config taken. */
export type ConfigOverlay = (config: PillarConfig) => PillarConfig;

export interface PillarAppOptions {
  config: PillarConfig;
  version: string;
  log?: Logger;
  /** The features, attached to every generation of the core in this order. */
  features?: readonly Feature[];
  /** Builds the drivers for a config; default: the composition root's `createDrivers`. */
  drivers?: DriverFactory;
  /** Re-applied to every config the pillar takes (boot, serial flash, MQTT `config.apply`). */
  overlay?: ConfigOverlay;
  /** A clock probe shared by many pillars in one process (the fleet simulator); started by its owner. */
  clock?: ClockSyncProbe;
  /**
   * Lock the data folder (`data-dir-lock.ts`) before anything in it is opened, and move the lock
   * with a config that moves the folder; `what` is written into the lock file for the refused.
   */
  lockDataDir?: { what: string };
}

/** Config changes that need every service rebuilt; anything else applies live. */
function needsRestart(a: PillarConfig, b: PillarConfig): boolean {
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  return (
    !same(a.pillar, b.pillar) ||
    !same(a.broker, b.broker) ||
    !same(a.hal, b.hal) ||
    a.dataDir !== b.dataDir ||
    !same(a.control, b.control)
  );
}

type Press = BusEvents["button.pressed"];

/**
 * The running pillar. Each (re)build makes a new generation of the core and attaches every
 * feature to it (`build-core.ts`). start, stop and config applies run one at a time, in the
 * order asked. Constructing it does nothing.
 */
export class PillarApp {
  readonly live: LiveConfig;
  readonly log: Logger;
  private built: AppCore | undefined;
  private started: Service[] = [];
  private state: "stopped" | "running" | "broken" = "stopped";
  private opened = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Presses confirmed while the incident controller was down (a restart): delivered after it. */
  private held: Press[] = [];
  private lock: DataDirLock | undefined;

  constructor(private readonly opts: PillarAppOptions) {
    this.live = new LiveConfig(this.overlay(opts.config));
    this.log = opts.log ?? rootLogger();
  }

  /** The current generation of the core; replaced by a restart-type apply (read it each time). */
  get core(): AppCore {
    if (!this.built) throw new Error("the pillar is not built yet");
    return this.built;
  }

  get config(): PillarConfig {
    return this.live.get();
  }

  private overlay(c: PillarConfig): PillarConfig {
    return this.opts.overlay ? this.opts.overlay(c) : c;
  }

  /** Run `task` after every lifecycle step asked before it (start, stop, apply). */
  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The data folder's lock (with `lockDataDir`), e.g. to add the demo's page to what it says. */
  get dataDirLock(): DataDirLock | undefined {
    return this.lock;
  }

  async start(): Promise<void> {
    await this.lockDataDir();
    // Outside the queue: opening may apply a config (the boot partition's), which queues itself.
    if (!this.opened) {
      this.opened = true;
      for (const f of this.opts.features ?? []) await f.open?.();
    }
    return this.serialized(async () => {
      await this.startServices();
      const c = this.core;
      this.log.info(
        { pillarId: this.config.pillar.id, driver: c.drivers.io.driver, control: c.control.port },
        "pillar running",
      );
    });
  }

  /** Stop for good: every service in reverse order, then what the features keep across rebuilds. */
  stop(): Promise<void> {
    return this.serialized(async () => {
      await this.stopServices(this.started);
      this.state = "stopped";
      if (this.opened) for (const f of [...(this.opts.features ?? [])].reverse()) await f.close?.();
      this.opened = false;
      await this.lock?.stop();
      this.lock = undefined;
    });
  }

  /**
   * Use a new (validated) config, with the overlay laid over it: live where possible, else
   * rebuild every service. One at a time. The button stays watched while the rest restarts, and a
   * press confirmed meanwhile is delivered once the new incident controller runs. When `signal`
   * aborts (a timed-out apply), the start stops between two services and throws: the pillar is
   * then stopped, and the next apply (the rollback) starts it again.
   */
  applyConfig(next: PillarConfig, signal?: AbortSignal): Promise<"live" | "restarted"> {
    return this.serialized(async () => {
      const target = this.overlay(next);
      const prev = this.config;
      if (this.state === "stopped") {
        this.live.set(target);
        return "live";
      }
      if (this.state === "running" && !needsRestart(prev, target)) {
        this.live.set(target);
        this.core.leds.render(true);
        this.log.info("config applied live");
        return "live";
      }
      const old = this.built;
      const watchers = old && this.state === "running" ? [old.io, old.button] : [];
      const rest = this.started.filter((s) => !watchers.includes(s as never));
      this.started = watchers;
      let offHold = () => {};
      if (old && watchers.length) {
        // From the moment the old incident controller stops until the new one runs.
        await this.stopServices(rest, () => (offHold = old.bus.on("button.pressed", (p) => this.held.push(p))));
      } else await this.stopServices(rest);
      this.live.set(target);
      try {
        await this.startServices(signal, async () => {
          offHold();
          await this.stopServices(this.started);
        });
      } finally {
        offHold();
      }
      this.log.info({ held: this.held.length }, "config applied; services restarted");
      return "restarted";
    });
  }

  /** `ping` and `GET /state`. */
  stateSnapshot(): Record<string, unknown> {
    return this.core.state();
  }

  /**
   * Build a new generation and start it. `beforeStart` runs between the build and the first
   * start (a restart stops the old I/O there, so the new driver can open the same lines).
   */
  private async startServices(signal?: AbortSignal, beforeStart?: () => Promise<void>): Promise<void> {
    await this.lockDataDir();
    const drivers = await (this.opts.drivers ?? createDrivers)(this.config, this.log);
    const { core, services } = await buildCore({
      live: this.live,
      drivers,
      features: this.opts.features ?? [],
      clock: this.opts.clock,
      version: this.opts.version,
      log: this.log,
    });
    await beforeStart?.();
    this.built = core;
    this.state = "broken";
    for (const s of services) {
      try {
        if (signal?.aborted) throw new Error(`abandoned: ${String(signal.reason ?? "aborted")}`);
        await s.start();
        this.started.push(s);
        if (s === core.incidents) this.deliverHeld();
      } catch (err) {
        this.log.error({ err }, "start failed; stopping what started");
        await this.stopServices(this.started);
        throw err;
      }
    }
    this.state = "running";
  }

  /** Holds the lock on the folder of the config in force: the new folder's first, then the old one freed. */
  private async lockDataDir(): Promise<void> {
    const o = this.opts.lockDataDir;
    const dir = this.config.dataDir;
    if (!o || (this.lock && resolve(this.lock.dir) === resolve(dir))) return;
    const next = new DataDirLock({ dir, what: o.what, log: this.log });
    await next.start();
    await this.lock?.stop();
    this.lock = next;
  }

  private deliverHeld(): void {
    for (const p of this.held.splice(0)) {
      this.log.warn({ at: p.at }, "a press made during the restart is delivered now");
      this.core.bus.emit("button.pressed", p);
    }
  }

  /** Stop `list` in reverse order; `afterIncidents` runs right after the incident controller stopped. */
  private async stopServices(list: Service[], afterIncidents?: () => void): Promise<void> {
    const incidents = this.built?.incidents;
    for (const s of [...list].reverse()) {
      try {
        await s.stop();
      } catch (err) {
        this.log.warn({ err }, "stop failed");
      }
      if (s === incidents) afterIncidents?.();
    }
    this.started = this.started.filter((s) => !list.includes(s));
  }
}
