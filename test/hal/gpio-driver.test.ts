/**
 * The GPIO driver's process handling, with stand-in libgpiod v2 tools (bash scripts) in a temp
 * directory: gpiomon tails an events file per line, gpioset sleeps while "holding" its line,
 * and every invocation is logged with its pid. No GPIO hardware is needed.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGpioPillarIo, type GpioPillarIoOptions } from "../../hal/gpio/gpio-pillar-io.js";
import type { PillarIo } from "../../hal/pillar-io.js";
import { GpioTools } from "../support/gpio-tools.js";
import { pidAlive } from "../support/processes.js";
import { sleep, waitFor } from "../support/wait.js";

const PINS = { button: 17, tamper: 27, ready: 22, alarm: 23, answered: 24, strobe: 25 } as const;

function options(toolDir: string, chipLabel = "pinctrl-rp1"): GpioPillarIoOptions {
  return {
    chipLabel,
    toolDir,
    inputs: { button: { pin: PINS.button, activeLow: true }, tamper: { pin: PINS.tamper, activeLow: false } },
    outputs: {
      ready: { pin: PINS.ready, activeLow: false },
      alarm: { pin: PINS.alarm, activeLow: false },
      answered: { pin: PINS.answered, activeLow: false },
      strobe: { pin: PINS.strobe, activeLow: true },
    },
  };
}

describe("gpio driver with stand-in libgpiod tools", () => {
  let tools: GpioTools;
  let dir: string;
  let io: PillarIo | undefined;

  beforeEach(() => {
    tools = new GpioTools();
    dir = tools.dir;
  });

  afterEach(async () => {
    await io?.stop();
    io = undefined;
    // whatever the driver left behind would be a bug, but the test still kills it by pid
    await tools.dispose();
  });

  it("finds the chip by label, reads initial levels, monitors inputs with their bias, holds outputs inactive", async () => {
    writeFileSync(join(dir, `level-${PINS.button}`), "0\n"); // button held down at start (activeLow)
    io = createGpioPillarIo(options(dir));
    await io.start();
    expect(io.driver).toBe("gpio");
    expect(io.button.read()).toBe(true);
    expect(io.tamper.read()).toBe(true); // default fake level 1, active-high
    const mons = tools.calls("gpiomon");
    expect(mons.map((m) => m.args).sort()).toEqual([
      `--chip gpiochip4 --bias pull-down --edges both --event-clock realtime --consumer alarm-pillar --format %o %e %S ${PINS.tamper}`,
      `--chip gpiochip4 --bias pull-up --edges both --event-clock realtime --consumer alarm-pillar --format %o %e %S ${PINS.button}`,
    ]);
    expect(mons.every((m) => pidAlive(m.pid))).toBe(true);
    expect(tools.holder(PINS.alarm)?.value).toBe("0");
    expect(tools.holder(PINS.strobe)?.value).toBe("1"); // activeLow output rests high
  });

  it("reports gpiomon edges with logical level and the kernel's realtime stamp", async () => {
    io = createGpioPillarIo(options(dir));
    await io.start();
    const edges: { active: boolean; at: number }[] = [];
    io.button.onChange((active, at) => edges.push({ active, at }));
    const stamp = Date.now() - 3;
    const sec = (ms: number) => `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, "0")}000000`;
    appendFileSync(join(dir, `events-${PINS.button}`), `${PINS.button} 2 ${sec(stamp)}\n`);
    await waitFor(() => edges.length === 1, "press");
    expect(edges[0]).toEqual({ active: true, at: stamp });
    appendFileSync(
      join(dir, `events-${PINS.button}`),
      `${PINS.button} 1 ${sec(stamp + 2)}\n${PINS.button} 1 ${sec(stamp + 3)}\n`,
    );
    await waitFor(() => edges.length === 2, "release");
    await sleep(100);
    expect(edges.map((e) => e.active)).toEqual([true, false]); // a repeated rising edge is no change
  });

  it("replaces the holding gpioset on each write, never two at once", async () => {
    io = createGpioPillarIo(options(dir));
    await io.start();
    const first = tools.holder(PINS.alarm)!;
    io.outputs.alarm.write(true);
    io.outputs.alarm.write(false);
    io.outputs.alarm.write(true); // coalesced while the first change is applied
    await waitFor(() => tools.holder(PINS.alarm)?.value === "1", "alarm held at 1");
    expect(pidAlive(first.pid)).toBe(false);
    expect(io.outputs.alarm.read()).toBe(true);
    io.outputs.strobe.write(true);
    await waitFor(() => tools.holder(PINS.strobe)?.value === "0", "strobe held low");
  });

  it("faults when gpiomon dies, restarts it with backoff, re-reads the level and recovers", async () => {
    io = createGpioPillarIo(options(dir));
    await io.start();
    const faults: Error[] = [];
    let recovered = 0;
    const edges: boolean[] = [];
    io.button.onFault((e) => faults.push(e));
    io.button.onRecover(() => recovered++);
    io.button.onChange((a) => edges.push(a));
    const mon = tools.calls("gpiomon").find((c) => c.args.endsWith(` ${PINS.button}`))!;
    writeFileSync(join(dir, `level-${PINS.button}`), "0\n"); // pressed while gpiomon is gone
    process.kill(mon.pid, "SIGKILL");
    await waitFor(() => faults.length === 1, "fault");
    expect(faults[0]!.message).toMatch(/button \(gpiochip4 line 17\).*killed by SIGKILL/);
    await waitFor(() => recovered === 1, "recovery");
    expect(edges).toEqual([true]); // the missed press, from gpioget on restart
    const mons = tools.calls("gpiomon").filter((c) => c.args.endsWith(` ${PINS.button}`));
    expect(mons).toHaveLength(2);
    expect(pidAlive(mons[1]!.pid)).toBe(true);
    appendFileSync(join(dir, `events-${PINS.button}`), `${PINS.button} 1 ${Math.floor(Date.now() / 1000)}.000000000\n`);
    await waitFor(() => edges.length === 2, "edge via the new gpiomon");
    expect(edges).toEqual([true, false]);
  });

  it("stop() ends every tool process, leaves active outputs inactive, and is idempotent", async () => {
    io = createGpioPillarIo(options(dir));
    await io.start();
    io.outputs.strobe.write(true);
    await waitFor(() => tools.holder(PINS.strobe)?.value === "0", "strobe held low");
    await io.stop();
    await io.stop();
    for (const c of [...tools.calls("gpiomon"), ...tools.calls("gpioset")]) expect(pidAlive(c.pid)).toBe(false);
    expect(tools.calls("gpioset").at(-1)!.args).toBe(
      `--chip gpiochip4 --consumer alarm-pillar --toggle 0 ${PINS.strobe}=1`,
    );
  });

  it("start() rejects naming the label and the chips found when the chip is missing, or the pin is out of range", async () => {
    const wrong = createGpioPillarIo(options(dir, "pinctrl-bcm2711"));
    await expect(wrong.start()).rejects.toThrow(/"pinctrl-bcm2711".*gpiochip4 \[pinctrl-rp1\]/);
    const bad = options(dir);
    bad.outputs.ready.pin = 60;
    await expect(createGpioPillarIo(bad).start()).rejects.toThrow(/ready pin 60 does not exist on gpiochip4/);
    expect(tools.calls("gpiomon")).toEqual([]);
  });
});
