import { InputLineBase } from "../input-line-base.js";
import { createInterface } from "node:readline";
import type { Logger } from "pino";
import type { InputLine } from "../digital-input.js";
import type { DigitalOutput, OutputLine } from "../digital-output.js";
import { Listeners } from "../listeners.js";
import {
  biasFor,
  buildGpiogetArgs,
  buildGpiomonArgs,
  buildGpiosetArgs,
  parseGpiogetOutput,
  parseGpiomonLine,
  type GpiodMajor,
} from "./gpiod-cli.js";
import { runTool, ToolProcess, toolPath } from "./gpio-proc.js";

/** What the PillarIo found at start: the chip to use and the libgpiod generation of the tools. */
export interface GpioSession {
  chip?: string;
  major?: GpiodMajor;
  toolDir?: string;
  log?: Logger;
}

/** A tool still running after this long has claimed its line. */
const SETTLE_MS = 300;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A gpiomon that ran this long before dying starts the backoff over. */
const STABLE_MS = 10_000;

const backoff = (attempt: number) => Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 10));

function need(s: GpioSession): { chip: string; major: GpiodMajor } {
  if (!s.chip || !s.major) throw new Error("gpio: chip not detected (start the PillarIo, not a line)");
  return { chip: s.chip, major: s.major };
}

/**
 * An input line: the initial level from `gpioget`, then one supervised `gpiomon` per line (one
 * per line because each may need its own bias). If gpiomon exits, the line faults and gpiomon is
 * restarted with backoff; the level is re-read first (an edge may have been missed meanwhile).
 */
export class GpioDigitalInput extends InputLineBase {
  private mon: ToolProcess | undefined;
  private running = false;
  private faulted = false;
  private attempt = 0;
  private monStartedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly line: InputLine,
    private readonly session: GpioSession,
  ) {
    super();
  }

  get name(): string {
    return this.line.name;
  }

  private get what(): string {
    return `gpio ${this.name} (${this.session.chip} line ${this.line.pin})`;
  }

  async start(): Promise<void> {
    this.level = await this.readLevel().catch((err: Error) => {
      throw new Error(`${this.what}: ${err.message}`);
    });
    const mon = this.spawnMonitor();
    await mon.settle(SETTLE_MS, `${this.what}: gpiomon`);
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.restartTimer);
    const mon = this.mon;
    this.mon = undefined;
    await mon?.stop();
  }

  private async readLevel(): Promise<boolean> {
    const { chip, major } = need(this.session);
    const args = buildGpiogetArgs(major, chip, this.line.pin, biasFor(this.line.activeLow));
    const out = await runTool(toolPath(this.session.toolDir, "gpioget"), args);
    return parseGpiogetOutput(out) !== this.line.activeLow;
  }

  private spawnMonitor(): ToolProcess {
    const { chip, major } = need(this.session);
    const args = buildGpiomonArgs(major, chip, this.line.pin, biasFor(this.line.activeLow));
    const mon = new ToolProcess(toolPath(this.session.toolDir, "gpiomon"), args);
    createInterface({ input: mon.proc.stdout! }).on("line", (l) => this.onLine(mon, l, major));
    void mon.exited.then((r) => this.onExit(mon, mon.describeExit(r)));
    this.mon = mon;
    this.monStartedAt = Date.now();
    return mon;
  }

  private onLine(mon: ToolProcess, text: string, major: GpiodMajor): void {
    if (mon !== this.mon) return;
    const edge = parseGpiomonLine(text, major);
    if (!edge || edge.offset !== this.line.pin) return;
    const now = Date.now();
    // the kernel's realtime stamp is closest to the hardware; distrust it if the clock jumped
    const at = edge.at !== undefined && Math.abs(now - edge.at) < 10_000 ? edge.at : now;
    const active = edge.rising !== this.line.activeLow;
    if (active === this.level) return; // e.g. the edge gpioget already saw
    this.level = active;
    this.changes.emit(active, at);
  }

  private onExit(mon: ToolProcess, how: string): void {
    if (mon !== this.mon || mon.stopping || !this.running) return;
    this.mon = undefined;
    if (Date.now() - this.monStartedAt >= STABLE_MS) this.attempt = 0;
    if (!this.faulted) {
      this.faulted = true;
      this.session.log?.warn({ line: this.name, how }, "gpiomon exited; restarting");
      this.faults.emit(new Error(`${this.what}: ${how}`));
    }
    this.restartTimer = setTimeout(() => void this.restart(), backoff(this.attempt++));
  }

  private async restart(): Promise<void> {
    if (!this.running) return;
    let level: boolean;
    try {
      level = await this.readLevel();
    } catch (err) {
      this.session.log?.warn({ line: this.name, err: (err as Error).message }, "gpioget failed");
      if (this.running) this.restartTimer = setTimeout(() => void this.restart(), backoff(this.attempt++));
      return;
    }
    if (!this.running) return;
    if (level !== this.level) {
      this.level = level;
      this.changes.emit(level, Date.now());
    }
    const mon = this.spawnMonitor();
    try {
      await mon.settle(SETTLE_MS, this.what);
    } catch {
      return; // onExit schedules the next attempt
    }
    if (mon !== this.mon || !this.running) return;
    this.faulted = false;
    this.session.log?.info({ line: this.name }, "gpiomon running again");
    this.recovers.emit();
  }
}

/**
 * An output line, held by one `gpioset` process per line: libgpiod v2 keeps a line's value only
 * while the requesting process lives, so the process stays up and a new level replaces it (the
 * old one is stopped first: a line can be requested once). Writes are coalesced: while one
 * change is applied, only the latest requested level is remembered. (`gpioset --interactive`
 * would avoid the respawn but is a build option that distributions may leave out.)
 */
export class GpioDigitalOutput implements DigitalOutput {
  private level = false;
  private holder: ToolProcess | undefined;
  private held: boolean | undefined;
  private heldSince = 0;
  private running = false;
  private busy = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly faults = new Listeners<[Error]>();

  constructor(
    private readonly line: OutputLine,
    private readonly session: GpioSession,
  ) {}

  get name(): string {
    return this.line.name;
  }

  async start(): Promise<void> {
    this.level = false;
    const holder = await this.apply();
    await holder.settle(SETTLE_MS, `gpio ${this.name} (${this.session.chip} line ${this.line.pin}): gpioset`);
    this.running = true;
  }

  async stop(): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    clearTimeout(this.retryTimer);
    const holder = this.holder;
    this.holder = undefined;
    await holder?.stop();
    if (!wasRunning || this.held === false) return; // the line already rests inactive
    try {
      const { chip, major } = need(this.session);
      await runTool(
        toolPath(this.session.toolDir, "gpioset"),
        buildGpiosetArgs(major, chip, this.line.pin, this.line.activeLow, false),
      );
    } catch (err) {
      this.session.log?.warn({ line: this.name, err: (err as Error).message }, "could not leave output inactive");
    }
  }

  write(on: boolean): void {
    this.level = on;
    if (this.running) void this.sync();
  }

  read(): boolean {
    return this.level;
  }

  onFault(l: (err: Error) => void): () => void {
    return this.faults.add(l);
  }

  private async sync(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.running && (this.held !== this.level || !this.holder)) await this.apply();
    } catch (err) {
      this.faults.emit(new Error(`gpio ${this.name}: ${(err as Error).message}`));
    } finally {
      this.busy = false;
    }
  }

  /** Replaces the holder by one driving the current level. */
  private async apply(): Promise<ToolProcess> {
    const { chip, major } = need(this.session);
    const old = this.holder;
    this.holder = undefined;
    await old?.stop();
    const want = this.level;
    const holder = new ToolProcess(
      toolPath(this.session.toolDir, "gpioset"),
      buildGpiosetArgs(major, chip, this.line.pin, want !== this.line.activeLow),
    );
    this.holder = holder;
    this.held = want;
    this.heldSince = Date.now();
    void holder.exited.then((r) => this.onExit(holder, holder.describeExit(r)));
    return holder;
  }

  private onExit(holder: ToolProcess, how: string): void {
    if (holder !== this.holder || holder.stopping || !this.running) return;
    this.holder = undefined;
    this.held = undefined;
    if (Date.now() - this.heldSince >= STABLE_MS) this.attempt = 0;
    this.faults.emit(new Error(`gpio ${this.name} (${this.session.chip} line ${this.line.pin}): ${how}`));
    this.retryTimer = setTimeout(() => void this.sync(), backoff(this.attempt++));
  }
}
