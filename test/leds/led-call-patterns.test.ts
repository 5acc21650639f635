import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SimDigitalOutput } from "../../hal/sim/sim-digital-output.js";
import { createBus } from "../../src/bus/events.js";
import type { CallState } from "../../src/call/call-session.js";
import { validateConfig } from "../../src/config/validate-config.js";
import { LedService } from "../../src/leds/led-service.js";
import { testConfigDoc } from "../support/sim-pillar.js";

describe("LEDs during an alarm call (fake timers)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("calling blinks while the call rings or waits for a re-join, talking once answered; a look-in shows nothing", async () => {
    const bus = createBus();
    const config = validateConfig(testConfigDoc());
    const out = {
      ready: new SimDigitalOutput("ready"),
      alarm: new SimDigitalOutput("alarm"),
      answered: new SimDigitalOutput("answered"),
      strobe: new SimDigitalOutput("strobe"),
    };
    const leds = new LedService({ outputs: out, bus, patterns: () => config.leds });
    await leds.start();
    const call = (state: CallState, kind: "alarm" | "lookin" = "alarm") =>
      bus.emit("call.state", { sessionId: "s1", kind, state, incidentId: "inc-1", officer: null, at: Date.now() });
    /** The levels of the alarm and answered lines at 0, 250, … 1750 ms from now. */
    const blink = async () => {
      const seen: string[] = [];
      for (let i = 0; i < 8; i++) {
        seen.push(`${+out.alarm.read()}${+out.answered.read()}`);
        await vi.advanceTimersByTimeAsync(250);
      }
      return seen.join(" ");
    };

    // a look-in with no incident: the idle pattern stays
    call("offered", "lookin");
    expect(leds.pattern()).toBe("idle");

    bus.emit("incident.state", { state: "alarm", incidentId: "inc-1", at: Date.now() });
    expect(leds.pattern()).toBe("alarm");
    call("offered");
    expect(leds.pattern()).toBe("calling");
    expect(out.strobe.read()).toBe(true);
    expect(out.ready.read()).toBe(false);
    // both lamps blink together with a 500 ms half period (the alarm pattern alone blinks at 250 ms)
    expect(await blink()).toBe("11 11 00 00 11 11 00 00");

    call("answered");
    expect(leds.pattern()).toBe("talking");
    expect(await blink()).toBe("01 01 01 01 01 01 01 01");

    call("rejoining");
    expect(leds.pattern()).toBe("calling");
    call("warning");
    expect(leds.pattern()).toBe("talking");
    call("ended");
    expect(leds.pattern()).toBe("alarm");
    bus.emit("incident.state", { state: "idle", incidentId: null, at: Date.now() });
    expect(leds.pattern()).toBe("idle");
    await leds.stop();
  });
});
