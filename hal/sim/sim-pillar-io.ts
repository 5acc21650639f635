import { OUTPUT_NAMES, type OutputName, type PillarIo } from "../pillar-io.js";
import type { SimControl } from "../sim-controls.js";
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

  private linkDead = false;

  /** Outputs first (driven inactive), then the inputs: the order every driver keeps (PillarIo). */
  async start(): Promise<void> {
    for (const o of Object.values(this.outputs)) await o.start();
    await this.button.start();
    await this.tamper.start();
  }

  /** Inputs first, then the outputs (left inactive): the reverse of start. */
  async stop(): Promise<void> {
    await this.button.stop();
    await this.tamper.stop();
    for (const o of Object.values(this.outputs)) await o.stop();
  }

  /** The simulated co-processor link (as a Firmata board on a serial port would have). */
  probeLink(): { ok: boolean; detail: string } {
    return { ok: !this.linkDead, detail: `sim co-processor: ${this.linkDead ? "no answer (link dead)" : "answers"}` };
  }

  /** Hook: the serial link to the co-processor dies (every line on it fails), or comes back. */
  setLinkDead(dead: boolean): void {
    if (dead === this.linkDead) return;
    this.linkDead = dead;
    for (const line of [this.button, this.tamper]) {
      if (dead) line.failLink("serial link dead");
      else line.restoreLink();
    }
  }

  /** Levels of every output, for `GET /sim/leds`. */
  leds(): Record<OutputName, ReturnType<SimDigitalOutput["snapshot"]>> {
    return Object.fromEntries(OUTPUT_NAMES.map((n) => [n, this.outputs[n].snapshot()])) as Record<
      OutputName,
      ReturnType<SimDigitalOutput["snapshot"]>
    >;
  }

  /** The hooks on the control endpoint (see README "Simulation"). */
  simControls(): SimControl[] {
    const post = (path: string, run: () => void, answer: object): SimControl => ({
      method: "POST",
      path,
      handle: () => (run(), answer),
    });
    return [
      post("/sim/button/press", () => this.button.press(), { button: "pressed" }),
      post("/sim/button/release", () => this.button.release(), { button: "released" }),
      {
        // A whole press timed by the pillar's own clock: two separate requests can arrive together
        // on a loaded machine and then look like contact bounce (shorter than the debounce time).
        method: "POST",
        path: "/sim/button/click",
        handle: async (q) => {
          const holdMs = Math.min(Math.max(Number(q.get("holdMs") ?? 80) || 80, 1), 10_000);
          this.button.press();
          await new Promise((r) => setTimeout(r, holdMs));
          this.button.release();
          // …and answered once released as long: a click right after is a new press, not a bounce.
          await new Promise((r) => setTimeout(r, holdMs));
          return { button: "clicked", holdMs };
        },
      },
      post("/sim/button/bounce", () => this.button.bounce(true), { button: "bounced to pressed" }),
      post("/sim/button/fail", () => this.button.failLink(), { button: "line failed" }),
      post("/sim/button/restore", () => this.button.restoreLink(), { button: "line restored" }),
      post("/sim/serial/dead", () => this.setLinkDead(true), { serial: "dead" }),
      post("/sim/serial/alive", () => this.setLinkDead(false), { serial: "alive" }),
      post("/sim/tamper/open", () => this.tamper.press(), { tamper: "open" }),
      post("/sim/tamper/close", () => this.tamper.release(), { tamper: "closed" }),
      { method: "GET", path: "/sim/leds", handle: () => this.leds() },
    ];
  }
}
