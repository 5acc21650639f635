import { OUTPUT_NAMES, type OutputName, type PillarIo } from "../pillar-io.js";
import { SimDigitalInput } from "./sim-digital-input.js";
import { SimDigitalOutput } from "./sim-digital-output.js";

/** The simulated pillar I/O: every line in-process, with hooks for tests and the on-screen demo. */
export class SimPillarIo implements PillarIo {
  readonly driver = "sim";
  readonly button = new SimDigitalInput("button");
  readonly tamper = new SimDigitalInput("tamper");
  readonly outputs = Object.fromEntries(OUTPUT_NAMES.map((n) => [n, new SimDigitalOutput(n)])) as Record<
    OutputName,
    SimDigitalOutput
  >;

  async start(): Promise<void> {
    await this.button.start();
    await this.tamper.start();
    for (const o of Object.values(this.outputs)) await o.start();
  }

  async stop(): Promise<void> {
    for (const o of Object.values(this.outputs)) await o.stop();
    await this.button.stop();
    await this.tamper.stop();
  }

  /** Levels of every output, for `GET /sim/leds`. */
  leds(): Record<OutputName, ReturnType<SimDigitalOutput["snapshot"]>> {
    return Object.fromEntries(OUTPUT_NAMES.map((n) => [n, this.outputs[n].snapshot()])) as Record<
      OutputName,
      ReturnType<SimDigitalOutput["snapshot"]>
    >;
  }
}
