import type { DigitalOutput } from "../../hal/digital-output.js";
import { OUTPUT_NAMES, type OutputName } from "../../hal/pillar-io.js";
import type { PillarConfig } from "../../config/schema.js";
import type { IncidentState, PillarBus } from "../bus/events.js";
import type { CallState } from "../call/call-session.js";

type Patterns = PillarConfig["leds"];
export type LedPatternName = keyof Patterns;

/** What an alarm call's state shows on the LEDs (a look-in shows nothing: nobody pressed). */
const CALL_PATTERN: Partial<Record<CallState, LedPatternName>> = {
  offered: "calling",
  connected: "calling",
  rejoining: "calling",
  answered: "talking",
  warning: "talking",
};

/**
 * Shows the pillar's state on its LEDs and strobe relay: while an alarm call runs, `calling`
 * (ringing, or waiting for the officer to re-join) or `talking`; otherwise the config's pattern
 * for the incident state, or `fault` when idle with an active fault. Blinking lines get a timer each.
 */
export class LedService {
  private state: IncidentState = "idle";
  private call: LedPatternName | undefined;
  private faults = new Set<string>();
  private timers: NodeJS.Timeout[] = [];
  private current: LedPatternName | undefined;
  private previewing: LedPatternName | undefined;
  private offs: (() => void)[] = [];

  constructor(
    private readonly o: {
      outputs: Readonly<Record<OutputName, DigitalOutput>>;
      bus: PillarBus;
      patterns: () => Patterns;
    },
  ) {}

  async start(): Promise<void> {
    const { bus } = this.o;
    this.offs.push(
      bus.on("incident.state", (s) => {
        this.state = s.state;
        this.render();
      }),
      bus.on("call.state", (c) => {
        this.call = c.kind === "alarm" ? CALL_PATTERN[c.state] : undefined;
        this.render();
      }),
      bus.on("fault.raised", (f) => {
        this.faults.add(`${f.component}/${f.code}`);
        this.render();
      }),
      bus.on("fault.cleared", (f) => {
        this.faults.delete(`${f.component}/${f.code}`);
        this.render();
      }),
    );
    this.render(true);
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    this.clearTimers();
  }

  /** The pattern shown now. */
  pattern(): LedPatternName {
    if (this.call && this.state !== "idle") return this.call;
    if (this.previewing && this.state === "idle") return this.previewing;
    return this.state === "idle" && this.faults.size > 0 ? "fault" : this.state;
  }

  /**
   * Show `name` while the pillar is idle (the self-test asks the installer to look at each
   * pattern); `undefined` goes back to the state's pattern. An incident always wins.
   */
  preview(name: LedPatternName | undefined): void {
    this.previewing = name;
    this.render();
  }

  /** Show the pattern again (e.g. after the config's patterns changed). */
  render(force = false): void {
    const name = this.pattern();
    if (name === this.current && !force) return;
    this.current = name;
    this.clearTimers();
    const p = this.o.patterns()[name];
    for (const out of OUTPUT_NAMES) {
      const line = this.o.outputs[out];
      const mode = p[out];
      if (mode === "on" || mode === "off") {
        line.write(mode === "on");
        continue;
      }
      let on = true;
      line.write(on);
      this.timers.push(
        setInterval(() => {
          on = !on;
          line.write(on);
        }, mode.blinkMs),
      );
    }
  }

  private clearTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}
