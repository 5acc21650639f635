import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SimDigitalInput } from "../../hal/sim/sim-digital-input.js";
import { createBus, type BusEvents } from "../../src/bus/events.js";
import { ButtonMonitor } from "../../src/inputs/button-monitor.js";
import { TamperMonitor } from "../../src/inputs/tamper-monitor.js";

type Seen = { name: keyof BusEvents; payload: unknown };

describe("button debounce and stuck detection (fake timers)", () => {
  let input: SimDigitalInput;
  let monitor: ButtonMonitor;
  let seen: Seen[];

  beforeEach(async () => {
    vi.useFakeTimers({ now: new Date("2026-11-24T10:00:00.000Z") });
    input = new SimDigitalInput("button");
    await input.start();
    const bus = createBus();
    seen = [];
    for (const name of [
      "button.pressed",
      "button.released",
      "button.stuck",
      "button.recovered",
      "fault.raised",
      "fault.cleared",
    ] as const) {
      bus.on(name, (payload) => seen.push({ name, payload }));
    }
    monitor = new ButtonMonitor({
      input,
      bus,
      log: pino({ level: "silent" }),
      settings: () => ({ debounceMs: 20, stuckAfterS: 60 }),
    });
    await monitor.start();
  });
  afterEach(async () => {
    await monitor.stop();
    vi.useRealTimers();
  });
  const names = () => seen.map((s) => s.name);

  it("counts a press once the contact has been stable for 20 ms, stamped at the surviving edge", () => {
    const t0 = Date.now();
    input.set(true, t0);
    vi.advanceTimersByTime(19);
    expect(names()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(names()).toEqual(["button.pressed"]);
    expect(seen[0]!.payload).toMatchObject({ at: t0, confirmedAt: t0 + 20 });
  });

  it("ignores contact bounce shorter than the window", () => {
    for (let i = 0; i < 6; i++) {
      input.set(i % 2 === 0, Date.now());
      vi.advanceTimersByTime(5);
    }
    input.set(false, Date.now());
    vi.advanceTimersByTime(100);
    expect(names()).toEqual([]);
    // a bouncing press that then holds is one press, stamped at the last edge
    input.set(true, Date.now());
    vi.advanceTimersByTime(3);
    input.set(false, Date.now());
    vi.advanceTimersByTime(3);
    const last = Date.now();
    input.set(true, last);
    vi.advanceTimersByTime(25);
    expect(names()).toEqual(["button.pressed"]);
    expect((seen[0]!.payload as { at: number }).at).toBe(last);
  });

  it("a short glitch (5 ms) is no press", () => {
    input.set(true, Date.now());
    vi.advanceTimersByTime(5);
    input.set(false, Date.now());
    vi.advanceTimersByTime(1000);
    expect(names()).toEqual([]);
  });

  it("raises button.stuck after 60 s held and button.recovered on release", () => {
    input.set(true, Date.now());
    vi.advanceTimersByTime(20);
    vi.advanceTimersByTime(59_979);
    expect(names()).toEqual(["button.pressed"]);
    vi.advanceTimersByTime(1);
    expect(names()).toEqual(["button.pressed", "button.stuck"]);
    expect(monitor.isStuck()).toBe(true);
    expect((seen[1]!.payload as { heldMs: number }).heldMs).toBe(60_000);
    vi.advanceTimersByTime(30_000);
    input.set(false, Date.now());
    vi.advanceTimersByTime(20);
    expect(names()).toEqual(["button.pressed", "button.stuck", "button.released", "button.recovered"]);
    expect((seen[3]!.payload as { heldMs: number }).heldMs).toBe(90_000);
    expect(monitor.isStuck()).toBe(false);
  });

  it("a normal press and release is never stuck", () => {
    input.set(true, Date.now());
    vi.advanceTimersByTime(500);
    input.set(false, Date.now());
    vi.advanceTimersByTime(120_000);
    expect(names()).toEqual(["button.pressed", "button.released"]);
  });

  it("turns a failed line into a fault and its recovery into a cleared fault", () => {
    input.failLink("cable cut");
    input.restoreLink();
    expect(names()).toEqual(["fault.raised", "fault.cleared"]);
    expect(seen[0]!.payload).toMatchObject({ component: "button", code: "line.failed" });
  });

  it("debounces the tamper switch with its own window", async () => {
    const tamperInput = new SimDigitalInput("tamper");
    await tamperInput.start();
    const bus = createBus();
    const changes: boolean[] = [];
    bus.on("tamper.changed", (t) => changes.push(t.open));
    const tamper = new TamperMonitor({ input: tamperInput, bus, debounceMs: () => 50 });
    await tamper.start();
    tamperInput.set(true, Date.now());
    vi.advanceTimersByTime(30);
    tamperInput.set(false, Date.now());
    vi.advanceTimersByTime(100);
    expect(changes).toEqual([]);
    tamperInput.set(true, Date.now());
    vi.advanceTimersByTime(50);
    expect(changes).toEqual([true]);
    expect(tamper.isOpen()).toBe(true);
    await tamper.stop();
  });
});
