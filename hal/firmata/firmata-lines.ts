import { InputLineBase } from "../input-line-base.js";
import type { Logger } from "pino";
import type { InputLine } from "../digital-input.js";
import type { DigitalOutput, OutputLine } from "../digital-output.js";
import { Listeners } from "../listeners.js";
import type { FirmataLink } from "./firmata-link.js";
import { PIN_MODE, type FirmataIo } from "./firmata-modules.js";

/** How long an input waits for the co-processor's first report of its port after enabling it. */
const FIRST_REPORT_MS = 1_000;

function checkPin(link: FirmataLink, io: FirmataIo, line: { name: string; pin: number }, mode: number): void {
  const pin = io.pins[line.pin];
  if (!pin) {
    throw new Error(
      `firmata ${link.port}: ${line.name} pin ${line.pin} does not exist (the co-processor has ${io.pins.length} pins)`,
    );
  }
  if (pin.supportedModes.length > 0 && !pin.supportedModes.includes(mode)) {
    throw new Error(`firmata ${link.port}: ${line.name} pin ${line.pin} does not support mode 0x${mode.toString(16)}`);
  }
}

/**
 * An input line on the co-processor. activeLow lines use the internal pull-up (PIN_MODE_PULLUP),
 * others plain INPUT (the contact needs an external pull-down). Every DIGITAL_MESSAGE for the
 * pin's port is compared with the last level; each change is one raw edge stamped Date.now().
 */
export class FirmataDigitalInput extends InputLineBase {
  private known = false;
  private io: FirmataIo | undefined;
  private firstReport: (() => void) | undefined;
  private unsubscribe: (() => void)[] = [];
  private readonly onRaw = (raw: number) => this.raw(raw);

  constructor(
    private readonly line: InputLine,
    private readonly link: FirmataLink,
    private readonly log?: Logger,
  ) {
    super();
  }

  get name(): string {
    return this.line.name;
  }

  async start(): Promise<void> {
    const io = this.link.io;
    if (!io) throw new Error(`firmata ${this.link.port}: ${this.name}: link is not up`);
    checkPin(this.link, io, this.line, PIN_MODE.INPUT);
    this.unsubscribe = [
      this.link.faults.add((e) => this.faults.emit(e)),
      this.link.recovers.add(() => this.recovers.emit()),
      this.link.onReconfigure((io2) => this.configure(io2)),
    ];
    const first = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), FIRST_REPORT_MS);
      this.firstReport = () => (clearTimeout(timer), resolve(true));
    });
    this.configure(io);
    if (!(await first)) {
      // Firmware older than StandardFirmata 2.5 does not report a port when reporting is enabled.
      this.log?.warn(
        { line: this.name, pin: this.line.pin },
        "no initial report from the co-processor; assuming inactive",
      );
      this.known = true;
    }
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.io?.removeListener(`digital-read-${this.line.pin}`, this.onRaw);
    this.io = undefined;
    this.firstReport = undefined;
  }

  /** PULLUP for activeLow lines; firmware before Firmata 2.5 lacks it: INPUT plus a HIGH write. */
  private mode(io: FirmataIo): { mode: number; legacyPullUp: boolean } {
    if (!this.line.activeLow) return { mode: PIN_MODE.INPUT, legacyPullUp: false };
    const modes = io.pins[this.line.pin]?.supportedModes ?? [];
    const pullup = modes.length === 0 || modes.includes(PIN_MODE.PULLUP);
    return { mode: pullup ? PIN_MODE.PULLUP : PIN_MODE.INPUT, legacyPullUp: !pullup };
  }

  /** (Re-)applies the pin set-up; after a reconnect `io` is a new instance. */
  private configure(io: FirmataIo): void {
    if (this.io !== io) {
      this.io?.removeListener(`digital-read-${this.line.pin}`, this.onRaw);
      this.io = io;
      io.on(`digital-read-${this.line.pin}`, this.onRaw);
    }
    try {
      const { mode, legacyPullUp } = this.mode(io);
      io.pinMode(this.line.pin, mode);
      if (legacyPullUp) io.digitalWrite(this.line.pin, 1);
      io.reportDigitalPin(this.line.pin, 1); // StandardFirmata answers with the port's current value
    } catch (err) {
      this.faults.emit(new Error(`firmata ${this.link.port}: ${this.name}: ${(err as Error).message}`));
    }
  }

  private raw(raw: number): void {
    const at = Date.now();
    const active = this.line.activeLow ? raw === 0 : raw !== 0;
    const first = this.firstReport;
    this.firstReport = undefined;
    if (!this.known) {
      this.known = true;
      this.level = active;
    } else if (active !== this.level) {
      this.level = active;
      this.changes.emit(active, at);
    }
    first?.();
  }
}

/** An output line on the co-processor: OUTPUT mode, activeLow inverts the written level. */
export class FirmataDigitalOutput implements DigitalOutput {
  private level = false;
  private readonly faults = new Listeners<[Error]>();
  private unsubscribe: (() => void)[] = [];

  constructor(
    private readonly line: OutputLine,
    private readonly link: FirmataLink,
  ) {}

  get name(): string {
    return this.line.name;
  }

  async start(): Promise<void> {
    const io = this.link.io;
    if (!io) throw new Error(`firmata ${this.link.port}: ${this.name}: link is not up`);
    checkPin(this.link, io, this.line, PIN_MODE.OUTPUT);
    this.level = false;
    this.configure(io);
    this.unsubscribe = [
      this.link.faults.add((e) => this.faults.emit(e)),
      this.link.onReconfigure((io2) => this.configure(io2)),
    ];
  }

  async stop(): Promise<void> {
    if (this.unsubscribe.length === 0) return;
    this.write(false);
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }

  write(on: boolean): void {
    this.level = on;
    const io = this.link.io;
    // While the link is down the level is only remembered: the reconfigure hook applies it.
    if (io) this.send(io);
  }

  read(): boolean {
    return this.level;
  }

  onFault(l: (err: Error) => void): () => void {
    return this.faults.add(l);
  }

  private configure(io: FirmataIo): void {
    // Latch the level before switching to OUTPUT, so an activeLow line does not glitch active.
    if (this.send(io)) {
      try {
        io.pinMode(this.line.pin, PIN_MODE.OUTPUT);
      } catch (err) {
        this.faults.emit(new Error(`firmata ${this.link.port}: ${this.name}: ${(err as Error).message}`));
        return;
      }
      this.send(io);
    }
  }

  private send(io: FirmataIo): boolean {
    try {
      io.digitalWrite(this.line.pin, this.level !== this.line.activeLow ? 1 : 0);
      return true;
    } catch (err) {
      this.faults.emit(new Error(`firmata ${this.link.port}: ${this.name}: write failed: ${(err as Error).message}`));
      return false;
    }
  }
}
