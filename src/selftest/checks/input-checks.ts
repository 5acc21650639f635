import type { LedPatternName } from "../../leds/led-service.js";
import { type Check, type CheckContext, type CheckOutcome, fail, pass, skip } from "../check.js";

/** A closed contact is given this long to open (someone pressing it) before it counts as stuck. */
const RELEASE_GRACE_MS = 3000;
const PRESS_TIMEOUT_MS = 30_000;
const CONFIRM_TIMEOUT_MS = 60_000;

/**
 * A check of an input line's contact (button, tamper switch): a fault of the line itself (not
 * one the self-test raised) fails it whatever the contact reads; else `contact` decides.
 */
function lineCheck(c: Omit<Check, "run"> & { contact(ctx: CheckContext): Promise<CheckOutcome> }): Check {
  const { contact, ...check } = c;
  return {
    ...check,
    async run(ctx) {
      const f = ctx.faults.list().find((x) => x.component === c.component && !x.code.startsWith("selftest."));
      if (f) return fail(`the ${c.component} line is failed: ${f.message}`, "failed");
      return contact(ctx);
    },
  };
}

/** Waits until `read()` is false, at most `ms`. */
async function opens(read: () => boolean, ms: number, signal: AbortSignal): Promise<boolean> {
  const until = Date.now() + ms;
  while (read() && Date.now() < until && !signal.aborted) await new Promise((r) => setTimeout(r, 50));
  return !read();
}

/** The button line works and its contact is open (not stuck, not held). */
export const buttonContactCheck: Check = lineCheck({
  id: "button.contact",
  component: "button",
  title: "button: contact not stuck",
  required: true,
  async contact(ctx) {
    const b = ctx.drivers.io.button;
    if (!(await opens(() => b.read(), RELEASE_GRACE_MS, ctx.signal)))
      return fail(`the button contact stays closed (${RELEASE_GRACE_MS / 1000} s and more): stuck`, "closed");
    return pass("contact open", "open");
  },
});

/**
 * The installer presses the button; the press reaches the center marked as a test (`data.test`,
 * no call, no alarm card) and its test incident is closed at once.
 */
export const buttonPressCheck: Check = {
  id: "button.press",
  component: "button",
  title: "button: press detected",
  required: true,
  interactive: true,
  async run(ctx) {
    const t = Date.now();
    let off = () => {};
    const pressed = new Promise<number>((r) => (off = ctx.bus.on("button.pressed", (p) => r(p.confirmedAt))));
    // the press asked for opens a test incident: marked as a test at the center, no call, and
    // closed once seen, so the audio loop and the LEDs are not held up by it
    ctx.incidents.expectTestPress(t + PRESS_TIMEOUT_MS + 1000);
    try {
      const prompt = { kind: "action", text: "Press the SOS button now", timeoutMs: PRESS_TIMEOUT_MS } as const;
      const ok = await ctx.prompter.ask(prompt, pressed);
      if (!ok) return fail(`no press within ${PRESS_TIMEOUT_MS / 1000} s`);
      const ms = (await pressed) - t;
      const incident = ctx.incidents.snapshot();
      ctx.incidents.closeTest();
      const as = incident.test ? "a test press" : "a press (an incident was already open)";
      return pass(
        `press detected after ${ms} ms; it went to the center as ${as} (incident ${incident.incidentId})`,
        ms,
        "ms",
      );
    } finally {
      ctx.incidents.expectTestPress(0);
      off();
    }
  },
};

/** How a pattern looks, in words. */
function describe(p: Record<string, "on" | "off" | { blinkMs: number }>): string {
  return Object.entries(p)
    .map(([line, m]) => `${line} ${typeof m === "string" ? m : `blinking (${m.blinkMs} ms)`}`)
    .join(", ");
}

/** Each LED pattern (and the strobe relay) is shown; the installer confirms what they see. */
export const ledsCheck: Check = {
  id: "leds.patterns",
  component: "leds",
  title: "LEDs and strobe relay",
  required: true,
  interactive: true,
  async run(ctx) {
    if (ctx.incidents.snapshot().state !== "idle") return skip("an incident is open: the LEDs show it");
    const patterns = ctx.config.leds;
    const wrong: string[] = [];
    try {
      for (const name of Object.keys(patterns) as LedPatternName[]) {
        ctx.leds.preview(name);
        const text = `LED pattern "${name}": ${describe(patterns[name])}. Is that what you see?`;
        if (!(await ctx.prompter.ask({ kind: "confirm", text, timeoutMs: CONFIRM_TIMEOUT_MS }))) wrong.push(name);
      }
    } finally {
      ctx.leds.preview(undefined);
    }
    const n = Object.keys(patterns).length;
    return wrong.length
      ? fail(`the installer did not confirm: ${wrong.join(", ")}`, n - wrong.length, "confirmed")
      : pass(`all ${n} patterns confirmed`, n, "confirmed");
  },
};

/** The serial co-processor (Firmata) answers; drivers without one skip. */
export const serialCheck: Check = {
  id: "serial.link",
  component: "serial",
  title: "serial co-processor answers",
  required: true,
  async run(ctx) {
    const probe = ctx.drivers.io.probeLink?.();
    if (!probe) return skip(`no serial co-processor (${ctx.drivers.io.driver} driver)`);
    return probe.ok ? pass(probe.detail, true) : fail(probe.detail, false);
  },
};

/** The tamper switch: closed is the normal state of a locked pillar. */
export const tamperCheck: Check = lineCheck({
  id: "tamper.state",
  component: "tamper",
  title: "tamper switch closed",
  required: false,
  async contact(ctx) {
    const open = ctx.drivers.io.tamper.read();
    return open ? fail("the tamper switch is open (door or cover open?)", "open") : pass("closed", "closed");
  },
});
