/**
 * The digital-I/O contract (hal/digital-input.ts, hal/digital-output.ts, hal/pillar-io.ts), the
 * same cases on every driver that runs here: sim, Firmata (socat pty pair + Firmata emulator),
 * GPIO (stand-in libgpiod tools). The rigs are in test/support/io-rigs.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import { OUTPUT_NAMES } from "../../hal/pillar-io.js";
import { IO_RIGS, type IoRig } from "../support/io-rigs.js";
import { sleep, waitFor } from "../support/wait.js";

describe.each(Object.keys(IO_RIGS))("digital I/O contract: %s driver", (driver) => {
  let rig: IoRig | undefined;
  const start = async () => {
    rig = await IO_RIGS[driver]!();
    return rig;
  };
  afterEach(async () => {
    await rig?.dispose();
    rig = undefined;
  });

  it("input: start() resolves with the wire's level known (a button held at power-on reads active)", async () => {
    const r = await start();
    r.setInput("button", true);
    r.setInput("tamper", false);
    await r.io.start();
    expect(r.io.button.read()).toBe(true);
    expect(r.io.tamper.read()).toBe(false);
  });

  it("input: every raw edge is reported in order with its logical level and a Date.now() time (no debouncing)", async () => {
    const r = await start();
    await r.io.start();
    const button: { active: boolean; at: number }[] = [];
    const tamper: boolean[] = [];
    r.io.button.onChange((active, at) => button.push({ active, at }));
    r.io.tamper.onChange((active) => tamper.push(active));
    const before = Date.now();
    for (const active of [true, false, true, false]) {
      r.setInput("button", active);
      await waitFor(() => button.at(-1)?.active === active, `button edge to ${active}`);
    }
    r.setInput("tamper", true);
    await waitFor(() => tamper.length === 1, "tamper edge");
    expect(button.map((e) => e.active)).toEqual([true, false, true, false]);
    expect(tamper).toEqual([true]);
    // the time is on the Date.now() scale (not a duration): between the first hook call and now
    for (const e of button) expect(e.at).toBeGreaterThanOrEqual(before - 1000);
    for (const e of button) expect(e.at).toBeLessThanOrEqual(Date.now());
    expect(r.io.button.read()).toBe(false);
    expect(r.io.tamper.read()).toBe(true);
  });

  it("input: a dead line is reported to onFault naming it, its recovery to onRecover, and edges flow again", async () => {
    const r = await start();
    await r.io.start();
    const faults: Error[] = [];
    let recovered = 0;
    const edges: boolean[] = [];
    r.io.button.onFault((e) => faults.push(e));
    r.io.button.onRecover(() => recovered++);
    r.io.button.onChange((a) => edges.push(a));
    await r.breakInput("button");
    await waitFor(() => faults.length >= 1, "the fault");
    expect(faults[0]!.message).toMatch(/button|firmata/);
    await r.healInput("button");
    await waitFor(() => recovered >= 1, "the recovery");
    expect(faults).toHaveLength(1); // once per outage
    r.setInput("button", true);
    await waitFor(() => edges.at(-1) === true, "an edge after the recovery");
  });

  it("input: stop() is idempotent, never throws, and no edge is reported after it", async () => {
    const r = await start();
    await r.io.start();
    const edges: boolean[] = [];
    r.io.button.onChange((a) => edges.push(a));
    await r.io.button.stop();
    await expect(r.io.button.stop()).resolves.toBeUndefined();
    r.setInput("button", true);
    await sleep(300); // nothing may come: give a wrong driver the chance to show it
    expect(edges).toEqual([]);
  });

  it("output: start() drives every output inactive on the wire (activeLow included)", async () => {
    const r = await start();
    await r.io.start();
    for (const n of OUTPUT_NAMES) {
      await waitFor(() => r.outputLevel(n) === false, `${n} inactive on the wire`);
      expect(r.io.outputs[n].read()).toBe(false);
    }
  });

  it("output: write() never throws, read() has the level at once, the wire follows and the last of a burst wins", async () => {
    const r = await start();
    await r.io.start();
    const faults: Error[] = [];
    for (const n of OUTPUT_NAMES) r.io.outputs[n].onFault((e) => faults.push(e));
    for (const n of OUTPUT_NAMES) {
      const o = r.io.outputs[n];
      expect(() => (o.write(true), o.write(false), o.write(true))).not.toThrow();
      expect(o.read()).toBe(true);
    }
    for (const n of OUTPUT_NAMES) await waitFor(() => r.outputLevel(n) === true, `${n} active on the wire`);
    r.io.outputs.alarm.write(false);
    expect(r.io.outputs.alarm.read()).toBe(false);
    await waitFor(() => r.outputLevel("alarm") === false, "alarm inactive again");
    expect(faults).toEqual([]);
  });

  it("output: stop() leaves every output inactive on the wire; a second stop() does nothing", async () => {
    const r = await start();
    await r.io.start();
    for (const n of OUTPUT_NAMES) r.io.outputs[n].write(true);
    for (const n of OUTPUT_NAMES) await waitFor(() => r.outputLevel(n) === true, `${n} active`);
    await r.io.stop();
    await expect(r.io.stop()).resolves.toBeUndefined();
    for (const n of OUTPUT_NAMES) await waitFor(() => r.outputLevel(n) === false, `${n} left inactive`);
  });

  it("start order: every output is started (driven inactive) before any input; stop is the reverse", async () => {
    const r = await start();
    const log: string[] = [];
    const lines = [
      ...OUTPUT_NAMES.map((n) => ["output", r.io.outputs[n]] as const),
      ["input", r.io.button] as const,
      ["input", r.io.tamper] as const,
    ];
    for (const [kind, line] of lines) {
      for (const step of ["start", "stop"] as const) {
        const real = line[step].bind(line);
        line[step] = async () => {
          log.push(`${step} ${kind} ${line.name} begins`);
          await real();
          log.push(`${step} ${kind} ${line.name} ends`);
        };
      }
    }
    await r.io.start();
    await r.io.stop();
    const at = (re: RegExp) => log.flatMap((l, i) => (re.test(l) ? [i] : []));
    expect(at(/^start output .* ends$/)).toHaveLength(4);
    expect(at(/^start input .* begins$/)).toHaveLength(2);
    expect(Math.max(...at(/^start output .* ends$/))).toBeLessThan(Math.min(...at(/^start input .* begins$/)));
    expect(at(/^stop input .* ends$/)).toHaveLength(2);
    expect(at(/^stop output .* begins$/)).toHaveLength(4);
    expect(Math.max(...at(/^stop input .* ends$/))).toBeLessThan(Math.min(...at(/^stop output .* begins$/)));
  });
});
