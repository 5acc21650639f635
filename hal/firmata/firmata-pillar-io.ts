/**
 * Firmata driver: the pillar's lines live on an I/O co-processor (Arduino-class board running
 * StandardFirmata 2.5+) on a serial port. One `FirmataLink` (serialport 13 + firmata-io +
 * johnny-five Board) is shared by all lines; they use the board's io directly (pinMode,
 * reportDigitalPin, digitalWrite), which delivers raw edges with the least latency.
 *
 * Pins are Arduino pin numbers (D2 = 2, A0 = 14 on an Uno). Inputs with `activeLow` use the
 * internal pull-up; active-high inputs need an external pull-down resistor.
 */
import type { Logger } from "pino";
import { OUTPUT_NAMES, type OutputName, type PillarIo } from "../pillar-io.js";
import { FirmataLink } from "./firmata-link.js";
import { FirmataDigitalInput, FirmataDigitalOutput } from "./firmata-lines.js";

export interface FirmataLineConfig {
  pin: number;
  activeLow: boolean;
}

export interface FirmataPillarIoOptions {
  /** Serial device of the co-processor, e.g. /dev/ttyACM0 or a /dev/serial/by-id/ link. */
  port: string;
  baudRate: number;
  /** Link check period (config `hal.firmata.heartbeatMs`). */
  heartbeatMs: number;
  inputs: { button: FirmataLineConfig; tamper: FirmataLineConfig };
  outputs: Record<OutputName, FirmataLineConfig>;
  log?: Logger;
  /** How long start() waits for the board to answer. Default 5000 ms. */
  startTimeoutMs?: number;
}

export class FirmataPillarIo implements PillarIo {
  readonly driver = "firmata";
  readonly button: FirmataDigitalInput;
  readonly tamper: FirmataDigitalInput;
  readonly outputs: Readonly<Record<OutputName, FirmataDigitalOutput>>;
  private readonly link: FirmataLink;
  private stopping: Promise<void> | undefined;

  constructor(opts: FirmataPillarIoOptions) {
    const log = opts.log?.child({ driver: "firmata" });
    this.link = new FirmataLink({
      port: opts.port,
      baudRate: opts.baudRate,
      heartbeatMs: opts.heartbeatMs,
      startTimeoutMs: opts.startTimeoutMs,
      log,
    });
    this.button = new FirmataDigitalInput({ name: "button", ...opts.inputs.button }, this.link, log);
    this.tamper = new FirmataDigitalInput({ name: "tamper", ...opts.inputs.tamper }, this.link, log);
    this.outputs = Object.fromEntries(
      OUTPUT_NAMES.map((n) => [n, new FirmataDigitalOutput({ name: n, ...opts.outputs[n] }, this.link)]),
    ) as Record<OutputName, FirmataDigitalOutput>;
  }

  async start(): Promise<void> {
    this.stopping = undefined;
    await this.link.start();
    try {
      // Outputs first: they are driven inactive before any input can cause an alarm.
      for (const o of Object.values(this.outputs)) await o.start();
      await this.button.start();
      await this.tamper.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  probeLink(): { ok: boolean; detail: string } {
    const up = this.link.io !== undefined;
    return { ok: up, detail: `firmata ${this.link.port}: ${up ? "answers its heartbeat" : "no answer (link down)"}` };
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    // The reverse of start: inputs, then outputs (left inactive), then the link.
    await this.button.stop().catch(() => {});
    await this.tamper.stop().catch(() => {});
    for (const o of Object.values(this.outputs)) await o.stop().catch(() => {});
    await this.link.stop().catch(() => {});
  }
}

/** Builds the Firmata PillarIo; nothing is opened until `start()`. */
export function createFirmataPillarIo(opts: FirmataPillarIoOptions): PillarIo {
  return new FirmataPillarIo(opts);
}
