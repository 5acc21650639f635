/**
 * The GPIO driver's process handling, with stand-in libgpiod v2 tools (bash scripts) in a temp
 * directory: gpiomon tails an events file per line, gpioset sleeps while "holding" its line,
 * and every invocation is logged with its pid. No GPIO hardware is needed.
 */
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGpioPillarIo, type GpioPillarIoOptions } from "../../hal/gpio/gpio-pillar-io.js";
import type { PillarIo } from "../../hal/pillar-io.js";
import { pidAlive, stopPid } from "../support/processes.js";
import { sleep, waitFor } from "../support/wait.js";

const PINS = { button: 17, tamper: 27, ready: 22, alarm: 23, answered: 24, strobe: 25 } as const;

function fakeTools(dir: string): void {
  const tool = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  tool(
    "gpiodetect",
    `[ "$1" = --version ] && { echo "gpiodetect (libgpiod) v2.1.3"; exit 0; }
echo "gpiochip0 [gpio-brcmstb@107d508500] (32 lines)"
echo "gpiochip4 [pinctrl-rp1] (54 lines)"`,
  );
  tool(
    "gpioget",
    `off="\${@: -1}"; echo "$$ $*" >> "${dir}/gpioget.log"; cat "${dir}/level-$off" 2>/dev/null || echo 1`,
  );
  tool(
    "gpiomon",
    `off="\${@: -1}"; echo "$$ $*" >> "${dir}/gpiomon.log"; touch "${dir}/events-$off"
exec tail -n +1 -F "${dir}/events-$off" 2>/dev/null`,
  );
  tool("gpioset", `echo "$$ $*" >> "${dir}/gpioset.log"; [[ " $* " == *" --toggle 0 "* ]] && exit 0; exec sleep 600`);
}

/** Invocations of a fake tool: pid and argument string, oldest first. */
function calls(dir: string, tool: string): { pid: number; args: string }[] {
  const f = join(dir, `${tool}.log`);
  if (!existsSync(f)) return [];
  return readFileSync(f, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => ({ pid: Number(l.slice(0, l.indexOf(" "))), args: l.slice(l.indexOf(" ") + 1) }));
}

/** The live gpioset holding `offset`, and the value it drives. */
function holder(dir: string, offset: number): { pid: number; value: string } | undefined {
  const live = calls(dir, "gpioset").filter((c) => pidAlive(c.pid) && new RegExp(` ${offset}=[01]$`).test(c.args));
  if (live.length > 1) throw new Error(`${live.length} gpioset processes hold line ${offset}`);
  return live[0] && { pid: live[0].pid, value: live[0].args.slice(-1) };
}

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
  let dir: string;
  let io: PillarIo | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "pillar-gpio-"));
    fakeTools(dir);
  });

  afterEach(async () => {
    await io?.stop();
    io = undefined;
    // whatever the driver left behind would be a bug, but the test still kills it by pid
    for (const c of [...calls(dir, "gpiomon"), ...calls(dir, "gpioset")]) await stopPid(c.pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("finds the chip by label, reads initial levels, monitors inputs with their bias, holds outputs inactive", async () => {
    writeFileSync(join(dir, `level-${PINS.button}`), "0\n"); // button held down at start (activeLow)
    io = createGpioPillarIo(options(dir));
    await io.start();
    expect(io.driver).toBe("gpio");
    expect(io.button.read()).toBe(true);
    expect(io.tamper.read()).toBe(true); // default fake level 1, active-high
    const mons = calls(dir, "gpiomon");
    expect(mons.map((m) => m.args).sort()).toEqual([
      `--chip gpiochip4 --bias pull-down --edges both --event-clock realtime --consumer alarm-pillar --format %o %e %S ${PINS.tamper}`,
      `--chip gpiochip4 --bias pull-up --edges both --event-clock realtime --consumer alarm-pillar --format %o %e %S ${PINS.button}`,
    ]);
    expect(mons.every((m) => pidAlive(m.pid))).toBe(true);
    expect(holder(dir, PINS.alarm)?.value).toBe("0");
    expect(holder(dir, PINS.strobe)?.value).toBe("1"); // activeLow output rests high
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
    const first = holder(dir, PINS.alarm)!;
    io.outputs.alarm.write(true);
    io.outputs.alarm.write(false);
    io.outputs.alarm.write(true); // coalesced while the first change is applied
    await waitFor(() => holder(dir, PINS.alarm)?.value === "1", "alarm held at 1");
    expect(pidAlive(first.pid)).toBe(false);
    expect(io.outputs.alarm.read()).toBe(true);
    io.outputs.strobe.write(true);
    await waitFor(() => holder(dir, PINS.strobe)?.value === "0", "strobe held low");
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
    const mon = calls(dir, "gpiomon").find((c) => c.args.endsWith(` ${PINS.button}`))!;
    writeFileSync(join(dir, `level-${PINS.button}`), "0\n"); // pressed while gpiomon is gone
    process.kill(mon.pid, "SIGKILL");
    await waitFor(() => faults.length === 1, "fault");
    expect(faults[0]!.message).toMatch(/button \(gpiochip4 line 17\).*killed by SIGKILL/);
    await waitFor(() => recovered === 1, "recovery");
    expect(edges).toEqual([true]); // the missed press, from gpioget on restart
    const mons = calls(dir, "gpiomon").filter((c) => c.args.endsWith(` ${PINS.button}`));
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
    await waitFor(() => holder(dir, PINS.strobe)?.value === "0", "strobe held low");
    await io.stop();
    await io.stop();
    for (const c of [...calls(dir, "gpiomon"), ...calls(dir, "gpioset")]) expect(pidAlive(c.pid)).toBe(false);
    expect(calls(dir, "gpioset").at(-1)!.args).toBe(
      `--chip gpiochip4 --consumer alarm-pillar --toggle 0 ${PINS.strobe}=1`,
    );
  });

  it("start() rejects naming the label and the chips found when the chip is missing, or the pin is out of range", async () => {
    const wrong = createGpioPillarIo(options(dir, "pinctrl-bcm2711"));
    await expect(wrong.start()).rejects.toThrow(/"pinctrl-bcm2711".*gpiochip4 \[pinctrl-rp1\]/);
    const bad = options(dir);
    bad.outputs.ready.pin = 60;
    await expect(createGpioPillarIo(bad).start()).rejects.toThrow(/ready pin 60 does not exist on gpiochip4/);
    expect(calls(dir, "gpiomon")).toEqual([]);
  });
});
