/**
 * A small Firmata DEVICE (the co-processor side) for tests: it opens one end of a pty pair and
 * answers like StandardFirmata 2.5 on an Uno-sized board, enough for firmata-io/johnny-five:
 * REPORT_VERSION, QUERY_FIRMWARE, CAPABILITY_QUERY, ANALOG_MAPPING_QUERY, PIN_STATE_QUERY,
 * SET_PIN_MODE, SET_DIGITAL_PIN_VALUE, REPORT_DIGITAL and DIGITAL_MESSAGE in both directions.
 *
 * Electrical model, per pin: an input reads the level driven by `setPin()`, else its pull-up
 * (PULLUP mode: high) or nothing (INPUT: low). A DIGITAL_MESSAGE from the host latches the
 * level of OUTPUT pins (and of pins not yet in a mode, like the AVR PORT register), and an
 * OUTPUT pin shows its latch. A reported port is sent when its input bits change.
 */
import { SerialPort } from "serialport";

const MODE = { INPUT: 0x00, OUTPUT: 0x01, ANALOG: 0x02, PULLUP: 0x0b } as const;
const START_SYSEX = 0xf0;
const END_SYSEX = 0xf7;

export interface FirmataEmulatorOptions {
  path: string;
  baudRate?: number;
  /** Default 20 (Uno: D0-D13, A0-A5 as 14-19). */
  pinCount?: number;
  firmwareName?: string;
}

export class FirmataEmulator {
  static readonly MODE = MODE;
  /** Every host command seen, by name (e.g. "REPORT_VERSION", "SET_PIN_MODE"). */
  readonly received: string[] = [];
  private port: SerialPort | undefined;
  private readonly pinCount: number;
  private modes: (number | undefined)[] = [];
  private latch: boolean[] = [];
  private readonly driven: (boolean | undefined)[] = [];
  private reporting: boolean[] = [];
  private lastReported: (number | undefined)[] = [];
  private msg: number[] = [];
  private inSysex = false;
  private frozen = false;

  constructor(private readonly opts: FirmataEmulatorOptions) {
    this.pinCount = opts.pinCount ?? 20;
    this.resetState();
  }

  start(): Promise<void> {
    const port = new SerialPort({ path: this.opts.path, baudRate: this.opts.baudRate ?? 57600, autoOpen: false });
    port.on("data", (data: Buffer) => {
      if (!this.frozen) for (const b of data) this.byte(b);
    });
    port.on("error", () => {}); // the peer going away is the host's business, not the emulator's
    this.port = port;
    return new Promise((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  }

  /** Closes the device end; idempotent. */
  stop(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (!port?.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }

  /** Hook: an external circuit drives `pin` to `level` (a button contact, a tamper switch). */
  setPin(pin: number, level: boolean): void {
    this.driven[pin] = level;
    this.reportPort(pin >> 3, false);
  }

  /** Hook: the level the pin shows (an output's latch, an input's read level). */
  getPin(pin: number): boolean {
    return this.modes[pin] === MODE.OUTPUT ? (this.latch[pin] ?? false) : this.readInput(pin);
  }

  pinMode(pin: number): number | undefined {
    return this.modes[pin];
  }

  /** Hook: the firmware hangs (reads nothing, sends nothing) while `on`; the port stays open. */
  freeze(on: boolean): void {
    this.frozen = on;
    if (!on) for (let p = 0; p < this.reporting.length; p++) this.reportPort(p, false);
  }

  /** Hook: the board resets: pin modes, latches and reporting are lost; it announces itself. */
  reboot(): void {
    this.resetState();
    this.versionReply();
    this.firmwareReply();
  }

  private resetState(): void {
    this.modes = new Array<number | undefined>(this.pinCount).fill(undefined);
    this.latch = new Array<boolean>(this.pinCount).fill(false);
    this.reporting = new Array<boolean>(Math.ceil(this.pinCount / 8)).fill(false);
    this.lastReported = new Array<number | undefined>(this.reporting.length).fill(undefined);
    this.msg = [];
    this.inSysex = false;
  }

  private send(bytes: number[]): void {
    if (this.frozen || !this.port?.isOpen) return;
    this.port.write(Buffer.from(bytes));
  }

  /** Incremental parser of the host's byte stream. */
  private byte(b: number): void {
    if (this.inSysex) {
      if (b === END_SYSEX) {
        this.inSysex = false;
        this.sysex(this.msg);
        this.msg = [];
      } else {
        this.msg.push(b);
      }
      return;
    }
    if (b & 0x80) {
      this.msg = [b];
      if (b === START_SYSEX) {
        this.inSysex = true;
        this.msg = [];
      }
    } else if (this.msg.length > 0) {
      this.msg.push(b);
    } else {
      return; // a data byte without a command: out of sync, dropped
    }
    const cmd = this.msg[0]!;
    const len =
      cmd === 0xf9 || cmd === 0xff
        ? 1
        : cmd === 0xf4 || cmd === 0xf5 || (cmd & 0xf0) === 0x90 || (cmd & 0xf0) === 0xe0
          ? 3
          : (cmd & 0xf0) === 0xc0 || (cmd & 0xf0) === 0xd0
            ? 2
            : 0;
    if (len === 0 || this.msg.length < len) return;
    const m = this.msg;
    this.msg = [];
    this.command(m);
  }

  private command(m: number[]): void {
    const [cmd = 0, a = 0, b = 0] = m;
    if (cmd === 0xf9) {
      this.received.push("REPORT_VERSION");
      this.versionReply();
    } else if (cmd === 0xff) {
      this.received.push("SYSTEM_RESET");
      this.resetState();
    } else if (cmd === 0xf4) {
      this.received.push("SET_PIN_MODE");
      if (a < this.pinCount) this.modes[a] = b;
      this.reportPort(a >> 3, false);
    } else if (cmd === 0xf5) {
      this.received.push("SET_DIGITAL_PIN_VALUE");
      if (a < this.pinCount) this.latch[a] = b !== 0;
    } else if ((cmd & 0xf0) === 0x90) {
      this.received.push("DIGITAL_MESSAGE");
      const port = cmd & 0x0f;
      const value = a | (b << 7);
      for (let i = 0; i < 8; i++) {
        const pin = port * 8 + i;
        const mode = this.modes[pin];
        if (pin < this.pinCount && (mode === undefined || mode === MODE.OUTPUT || mode === MODE.INPUT)) {
          this.latch[pin] = ((value >> i) & 1) === 1;
        }
      }
    } else if ((cmd & 0xf0) === 0xd0) {
      this.received.push("REPORT_DIGITAL");
      const port = cmd & 0x0f;
      if (port < this.reporting.length) {
        this.reporting[port] = a !== 0;
        if (a !== 0) this.reportPort(port, true); // 2.5 sends the port's value at once
      }
    } else if ((cmd & 0xf0) === 0xc0) {
      this.received.push("REPORT_ANALOG");
    } else if ((cmd & 0xf0) === 0xe0) {
      this.received.push("ANALOG_MESSAGE");
    }
  }

  private sysex(body: number[]): void {
    const [id, ...data] = body;
    switch (id) {
      case 0x79: // QUERY_FIRMWARE
        this.received.push("QUERY_FIRMWARE");
        this.firmwareReply();
        break;
      case 0x6b: {
        // CAPABILITY_QUERY: per pin (mode, resolution) pairs, 0x7f ends a pin
        this.received.push("CAPABILITY_QUERY");
        const out = [START_SYSEX, 0x6c];
        for (let pin = 0; pin < this.pinCount; pin++) {
          if (pin > 1) out.push(MODE.INPUT, 1, MODE.OUTPUT, 1, MODE.PULLUP, 1);
          if (pin >= 14) out.push(MODE.ANALOG, 10);
          out.push(0x7f);
        }
        this.send([...out, END_SYSEX]);
        break;
      }
      case 0x69: {
        // ANALOG_MAPPING_QUERY: analog channel per pin, 0x7f = none
        this.received.push("ANALOG_MAPPING_QUERY");
        const map = Array.from({ length: this.pinCount }, (_, pin) => (pin >= 14 ? pin - 14 : 0x7f));
        this.send([START_SYSEX, 0x6a, ...map, END_SYSEX]);
        break;
      }
      case 0x6d: {
        // PIN_STATE_QUERY: mode and state (output: latch; input: pull-up enabled)
        this.received.push("PIN_STATE_QUERY");
        const pin = data[0] ?? 0;
        const mode = this.modes[pin] ?? MODE.OUTPUT;
        const state = mode === MODE.OUTPUT ? Number(this.latch[pin] ?? false) : Number(mode === MODE.PULLUP);
        this.send([START_SYSEX, 0x6e, pin, mode, state, END_SYSEX]);
        break;
      }
      default:
        this.received.push(`SYSEX_0x${(id ?? 0).toString(16)}`);
    }
  }

  private versionReply(): void {
    this.send([0xf9, 2, 5]);
  }

  private firmwareReply(): void {
    const name = this.opts.firmwareName ?? "StandardFirmata.ino";
    const chars = [...Buffer.from(name, "ascii")].flatMap((c) => [c & 0x7f, (c >> 7) & 0x7f]);
    this.send([START_SYSEX, 0x79, 2, 5, ...chars, END_SYSEX]);
  }

  private readInput(pin: number): boolean {
    return this.driven[pin] ?? this.modes[pin] === MODE.PULLUP;
  }

  private portValue(port: number): number {
    let v = 0;
    for (let i = 0; i < 8; i++) {
      const pin = port * 8 + i;
      const mode = this.modes[pin];
      if ((mode === MODE.INPUT || mode === MODE.PULLUP) && this.readInput(pin)) v |= 1 << i;
    }
    return v;
  }

  private reportPort(port: number, force: boolean): void {
    if (!this.reporting[port] || this.frozen) return;
    const v = this.portValue(port);
    if (!force && v === this.lastReported[port]) return;
    this.lastReported[port] = v;
    this.send([0x90 | port, v & 0x7f, (v >> 7) & 0x01]);
  }
}
