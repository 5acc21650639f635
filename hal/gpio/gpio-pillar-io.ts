/**
 * GPIO driver: the pillar's lines on the Raspberry Pi's own header, through the Linux GPIO
 * character device and the libgpiod command line tools (no native addon to build).
 *
 * Raspberry Pi set-up (Pi 4, Pi 5, CM4; Raspberry Pi OS Bookworm or later):
 *   - `sudo apt install gpiod` — the tools. Bookworm ships libgpiod 1.6 (v1 tools), Trixie 2.x
 *     (v2 tools); both work, the generation is detected at start (`gpiodetect --version`).
 *   - The service user must be in group `gpio` (owner of /dev/gpiochip*): `sudo usermod -aG gpio pillar`.
 *   - `hal.gpio.chipLabel` picks the chip by label, as `gpiodetect` prints it:
 *       Pi 5:        `gpiochip4 [pinctrl-rp1] (54 lines)` (gpiochip0 on kernels 6.6.45+) → "pinctrl-rp1"
 *       Pi 4, CM4:   `gpiochip0 [pinctrl-bcm2711] (58 lines)`                        → "pinctrl-bcm2711"
 *     The label, not the number, is configured because the number changed between kernels.
 *   - Pins are BCM GPIO numbers (GPIO17 is header pin 11), i.e. line offsets on that chip.
 *     They must not be claimed by an overlay (gpio-key, w1-gpio on GPIO4, i2c/spi pins...).
 *   - Inputs: `activeLow` lines get the internal pull-up, active-high lines the pull-down.
 *   - Check with `gpioinfo <chip>`: while the pillar runs its lines show as used by
 *     "alarm-pillar" (v2) or "gpiomon"/"gpioset" (v1).
 *
 * Processes: one supervised `gpiomon` per input (restarted with backoff if it dies; the line
 * faults meanwhile), one `gpioset` per output holding the line (see GpioDigitalOutput).
 */
import type { Logger } from "pino";
import { OUTPUT_NAMES, type OutputName, type PillarIo } from "../pillar-io.js";
import { findChipByLabel, parseGpiodetect, parseGpiodVersion } from "./gpiod-cli.js";
import { GpioDigitalInput, GpioDigitalOutput, type GpioSession } from "./gpio-lines.js";
import { runTool, toolPath } from "./gpio-proc.js";

export interface GpioLineConfig {
  /** BCM GPIO number = line offset on the chip. */
  pin: number;
  activeLow: boolean;
}

export interface GpioPillarIoOptions {
  /** gpiochip label (config `hal.gpio.chipLabel`): "pinctrl-rp1" (Pi 5), "pinctrl-bcm2711" (Pi 4, CM4). */
  chipLabel: string;
  inputs: { button: GpioLineConfig; tamper: GpioLineConfig };
  outputs: Record<OutputName, GpioLineConfig>;
  log?: Logger;
  /** Directory of the libgpiod tools; default: found on PATH. */
  toolDir?: string;
}

export class GpioPillarIo implements PillarIo {
  readonly driver = "gpio";
  readonly button: GpioDigitalInput;
  readonly tamper: GpioDigitalInput;
  readonly outputs: Readonly<Record<OutputName, GpioDigitalOutput>>;
  private readonly session: GpioSession;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: GpioPillarIoOptions) {
    this.session = { toolDir: opts.toolDir, log: opts.log?.child({ driver: "gpio" }) };
    this.button = new GpioDigitalInput({ name: "button", ...opts.inputs.button }, this.session);
    this.tamper = new GpioDigitalInput({ name: "tamper", ...opts.inputs.tamper }, this.session);
    this.outputs = Object.fromEntries(
      OUTPUT_NAMES.map((n) => [n, new GpioDigitalOutput({ name: n, ...opts.outputs[n] }, this.session)]),
    ) as Record<OutputName, GpioDigitalOutput>;
  }

  async start(): Promise<void> {
    this.stopping = undefined;
    await this.detect();
    try {
      // Outputs first: they are driven inactive before any input can cause an alarm.
      await settleAll(Object.values(this.outputs).map((o) => o.start()));
      await settleAll([this.button.start(), this.tamper.start()]);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    // The reverse of start: inputs, then outputs (left inactive).
    await Promise.all([this.button.stop().catch(() => {}), this.tamper.stop().catch(() => {})]);
    await Promise.all(Object.values(this.outputs).map((o) => o.stop().catch(() => {})));
  }

  /** Finds the libgpiod generation and the chip by label; checks every pin exists on it. */
  private async detect(): Promise<void> {
    const gpiodetect = toolPath(this.opts.toolDir, "gpiodetect");
    const version = parseGpiodVersion(await runTool(gpiodetect, ["--version"]));
    if (!version) throw new Error("gpio: cannot tell the libgpiod version from `gpiodetect --version`");
    const chips = parseGpiodetect(await runTool(gpiodetect, []));
    const chip = findChipByLabel(chips, this.opts.chipLabel);
    if (!chip) {
      const found = chips.map((c) => `${c.name} [${c.label}]`).join(", ") || "none";
      throw new Error(`gpio: no GPIO chip labelled "${this.opts.chipLabel}" (found: ${found}); set hal.gpio.chipLabel`);
    }
    const { inputs, outputs } = this.opts;
    const pins: [string, number][] = [
      ["button", inputs.button.pin],
      ["tamper", inputs.tamper.pin],
      ...OUTPUT_NAMES.map((n): [string, number] => [n, outputs[n].pin]),
    ];
    for (const [name, pin] of pins) {
      if (pin >= chip.lines)
        throw new Error(
          `gpio: ${name} pin ${pin} does not exist on ${chip.name} [${chip.label}] (${chip.lines} lines)`,
        );
    }
    this.session.chip = chip.name;
    this.session.major = version.major;
    this.session.log?.info({ chip: chip.name, label: chip.label, libgpiod: version.version }, "gpio chip found");
  }
}

/** Like Promise.all, but waits for every promise before rejecting (so stop() finds no start running). */
async function settleAll(ps: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(ps)).find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
}

/** Builds the GPIO PillarIo; nothing runs until `start()`. */
export function createGpioPillarIo(opts: GpioPillarIoOptions): PillarIo {
  return new GpioPillarIo(opts);
}
