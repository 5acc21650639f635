/**
 * The Firmata driver against a real serial line: socat makes a pty pair, the Firmata emulator
 * (the co-processor) holds one end, the driver (serialport + firmata-io + johnny-five) the other.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SerialPort } from "serialport";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFirmataPillarIo, type FirmataPillarIoOptions } from "../../hal/firmata/firmata-pillar-io.js";
import type { PillarIo } from "../../hal/pillar-io.js";
import { FirmataEmulator } from "../support/firmata-emulator.js";
import { SocatPair } from "../support/socat-pair.js";
import { sleep, waitFor } from "../support/wait.js";

const HEARTBEAT_MS = 250;
const { MODE } = FirmataEmulator;
const PINS = { button: 2, tamper: 3, ready: 8, alarm: 9, answered: 10, strobe: 11 } as const;

function options(port: string, extra: Partial<FirmataPillarIoOptions> = {}): FirmataPillarIoOptions {
  return {
    port,
    baudRate: 57600,
    heartbeatMs: HEARTBEAT_MS,
    inputs: { button: { pin: PINS.button, activeLow: true }, tamper: { pin: PINS.tamper, activeLow: false } },
    outputs: {
      ready: { pin: PINS.ready, activeLow: false },
      alarm: { pin: PINS.alarm, activeLow: false },
      answered: { pin: PINS.answered, activeLow: false },
      strobe: { pin: PINS.strobe, activeLow: true },
    },
    ...extra,
  };
}

/**
 * Counts the host's link heartbeats (REPORT_VERSION, one byte 0xF9, written to `path`): "within
 * two heartbeats" is then a count, not a duration a loaded machine can stretch.
 */
const heartbeats = { path: "", count: 0 };
const realWrite = SerialPort.prototype.write;
SerialPort.prototype.write = function (this: SerialPort, chunk: unknown, ...rest: unknown[]) {
  const c = chunk as ArrayLike<number>;
  if (this.path === heartbeats.path && c.length === 1 && c[0] === 0xf9) heartbeats.count++;
  return (realWrite as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
} as typeof realWrite;
afterAll(() => {
  SerialPort.prototype.write = realWrite;
});

/** Collects faults/recoveries of every line of a PillarIo, with the heartbeat count when each came. */
function watchFaults(io: PillarIo) {
  const faults: { line: string; err: Error; beats: number }[] = [];
  const recovers: string[] = [];
  for (const line of [io.button, io.tamper]) {
    line.onFault((err) => faults.push({ line: line.name, err, beats: heartbeats.count }));
    line.onRecover(() => recovers.push(line.name));
  }
  for (const o of Object.values(io.outputs))
    o.onFault((err) => faults.push({ line: o.name, err, beats: heartbeats.count }));
  return { faults, recovers };
}

const ALL_LINES = ["alarm", "answered", "button", "ready", "strobe", "tamper"];

describe("firmata driver over a socat pty pair", () => {
  let socat: SocatPair;
  /** Every socat pair a test started: afterEach kills each one by its pid. */
  const pairs: SocatPair[] = [];
  const startSocat = async (links?: { a: string; b: string }) => {
    const pair = new SocatPair(links);
    pairs.push(pair);
    return pair.start();
  };
  let emu: FirmataEmulator;
  let io: PillarIo | undefined;

  beforeEach(async () => {
    socat = await startSocat();
    emu = new FirmataEmulator({ path: socat.a });
    await emu.start();
  });

  afterEach(async () => {
    await io?.stop();
    io = undefined;
    await emu.stop();
    for (const pair of pairs.splice(0)) await pair.kill();
  });

  it("starts, sets pin modes and drives the outputs inactive (activeLow inverted)", async () => {
    const sigints = process.listenerCount("SIGINT");
    io = createFirmataPillarIo(options(socat.b));
    await io.start();
    expect(process.listenerCount("SIGINT")).toBe(sigints); // johnny-five's exit-on-Ctrl-C is off
    expect(io.driver).toBe("firmata");
    expect(emu.pinMode(PINS.button)).toBe(MODE.PULLUP); // activeLow input: internal pull-up
    expect(emu.pinMode(PINS.tamper)).toBe(MODE.INPUT);
    for (const p of [PINS.ready, PINS.alarm, PINS.answered, PINS.strobe]) expect(emu.pinMode(p)).toBe(MODE.OUTPUT);
    expect(emu.getPin(PINS.alarm)).toBe(false);
    expect(emu.getPin(PINS.strobe)).toBe(true); // inactive activeLow output sits high
    expect(io.button.read()).toBe(false); // pulled up, not pressed
    expect(io.tamper.read()).toBe(false);
  });

  it("reports each raw edge from the co-processor with its logical level and time", async () => {
    io = createFirmataPillarIo(options(socat.b));
    await io.start();
    const button: { active: boolean; at: number }[] = [];
    const tamper: boolean[] = [];
    io.button.onChange((active, at) => button.push({ active, at }));
    io.tamper.onChange((active) => tamper.push(active));

    const t0 = Date.now();
    emu.setPin(PINS.button, false); // contact pulls the activeLow line to ground: pressed
    await waitFor(() => button.length === 1, "button press");
    expect(button[0]!.active).toBe(true);
    expect(button[0]!.at).toBeGreaterThanOrEqual(t0);
    expect(button[0]!.at).toBeLessThanOrEqual(Date.now());
    expect(io.button.read()).toBe(true);

    emu.setPin(PINS.button, true);
    emu.setPin(PINS.button, false);
    emu.setPin(PINS.button, true); // bounce: every raw edge is reported, none is debounced here
    await waitFor(() => button.length === 4, "three more button edges");
    expect(button.map((e) => e.active)).toEqual([true, false, true, false]);

    emu.setPin(PINS.tamper, true); // active-high input, same port as the button
    await waitFor(() => tamper.length === 1, "tamper edge");
    expect(tamper).toEqual([true]);
    expect(button).toHaveLength(4); // a report of the shared port is not a button edge
  });

  it("writes to the outputs reach the co-processor", async () => {
    io = createFirmataPillarIo(options(socat.b));
    await io.start();
    io.outputs.alarm.write(true);
    io.outputs.strobe.write(true);
    await waitFor(() => emu.getPin(PINS.alarm) && !emu.getPin(PINS.strobe), "alarm high, strobe low");
    expect(io.outputs.alarm.read()).toBe(true);
    expect(io.outputs.strobe.read()).toBe(true);
    expect(emu.getPin(PINS.ready)).toBe(false);

    io.outputs.alarm.write(false);
    io.outputs.ready.write(true);
    await waitFor(() => !emu.getPin(PINS.alarm) && emu.getPin(PINS.ready), "alarm low, ready high");
    expect(emu.getPin(PINS.strobe)).toBe(false); // untouched: still active
  });

  it("faults every line when the co-processor stops answering, recovers when it answers again", async () => {
    io = createFirmataPillarIo(options(socat.b));
    await io.start();
    const { faults, recovers } = watchFaults(io);
    heartbeats.path = socat.b;
    const b0 = heartbeats.count;
    emu.freeze(true); // the port stays open: serialport itself notices nothing
    await waitFor(() => faults.length === 6, "faults");
    expect(faults.map((f) => f.line).sort()).toEqual(ALL_LINES);
    expect(faults[0]!.err.message).toContain(socat.b);
    expect(faults[0]!.err.message).toMatch(/heartbeat/);
    // a hang is seen only by the heartbeat: at least one, at most two after the freeze
    expect(Math.min(...faults.map((f) => f.beats)) - b0).toBeGreaterThanOrEqual(1);
    expect(Math.max(...faults.map((f) => f.beats)) - b0).toBeLessThanOrEqual(2);

    io.outputs.alarm.write(true); // while down: remembered, applied on recovery
    emu.freeze(false);
    await waitFor(() => recovers.length === 2, "recovery");
    expect(recovers.sort()).toEqual(["button", "tamper"]);
    await waitFor(() => emu.getPin(PINS.alarm), "alarm applied after recovery");
    expect(faults).toHaveLength(6); // one fault per line per outage, not one per missed beat
  });

  it("faults within two heartbeats when socat (the serial peer) is killed", async () => {
    io = createFirmataPillarIo(options(socat.b));
    await io.start();
    const { faults } = watchFaults(io);
    heartbeats.path = socat.b;
    const b0 = heartbeats.count;
    await socat.kill();
    await waitFor(() => faults.length === 6, "faults");
    expect(faults.map((f) => f.line).sort()).toEqual(ALL_LINES);
    expect(faults[0]!.err.message).toContain(socat.b);
    expect(Math.max(...faults.map((f) => f.beats)) - b0).toBeLessThanOrEqual(2); // within two heartbeats
  });

  it("faults within two heartbeats when the emulator closes its end", async () => {
    io = createFirmataPillarIo(options(socat.b));
    await io.start();
    const { faults } = watchFaults(io);
    heartbeats.path = socat.b;
    const b0 = heartbeats.count;
    await emu.stop();
    await waitFor(() => faults.length === 6, "faults");
    expect(faults[0]!.err.message).toContain(socat.b);
    expect(Math.max(...faults.map((f) => f.beats)) - b0).toBeLessThanOrEqual(2); // within two heartbeats
  });

  it("re-applies pin modes, reporting and output levels after the co-processor reboots", async () => {
    io = createFirmataPillarIo(options(socat.b));
    await io.start();
    io.outputs.answered.write(true);
    await waitFor(() => emu.getPin(PINS.answered), "answered high");
    emu.reboot(); // modes and latches lost; the board announces its firmware unasked
    expect(emu.pinMode(PINS.button)).toBeUndefined();
    await waitFor(() => emu.pinMode(PINS.button) === MODE.PULLUP && emu.getPin(PINS.answered), "set-up re-applied");
    expect(emu.pinMode(PINS.strobe)).toBe(MODE.OUTPUT);
    expect(emu.getPin(PINS.strobe)).toBe(true);
    const edges: boolean[] = [];
    io.button.onChange((a) => edges.push(a));
    emu.setPin(PINS.button, false);
    await waitFor(() => edges.length === 1, "edge after reboot");
    expect(edges).toEqual([true]);
  });

  it("reopens the port after the serial device went away and came back, then recovers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pillar-firmata-"));
    try {
      const links = { a: join(dir, "device"), b: join(dir, "host") };
      await emu.stop();
      await socat.kill("SIGTERM");
      socat = await startSocat(links);
      emu = new FirmataEmulator({ path: socat.a });
      await emu.start();
      io = createFirmataPillarIo(options(links.b));
      await io.start();
      const { faults, recovers } = watchFaults(io);

      await socat.kill("SIGTERM"); // the USB cable is pulled: the device node disappears
      await emu.stop();
      await waitFor(() => faults.length === 6, "faults");
      expect(faults[0]!.err.message).toContain(links.b);
      io.outputs.alarm.write(true);

      socat = await startSocat(links); // plugged back in: same path, a fresh co-processor
      emu = new FirmataEmulator({ path: socat.a });
      await emu.start();
      await waitFor(() => recovers.length === 2, "recovery");
      await waitFor(
        () => emu.pinMode(PINS.button) === MODE.PULLUP && emu.getPin(PINS.alarm),
        "set-up and alarm re-applied on the new link",
      );
      const edges: boolean[] = [];
      io.button.onChange((a) => edges.push(a));
      emu.setPin(PINS.button, false);
      await waitFor(() => edges.length === 1, "edge on the new link");
      expect(edges).toEqual([true]);
    } finally {
      await io?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("start() rejects, naming the port, when the board does not answer or the port does not exist", async () => {
    emu.freeze(true);
    const silent = createFirmataPillarIo(options(socat.b, { startTimeoutMs: 800 }));
    await expect(silent.start()).rejects.toThrow(socat.b);
    await silent.stop();
    const missing = createFirmataPillarIo(options("/dev/pts/does-not-exist"));
    await expect(missing.start()).rejects.toThrow("/dev/pts/does-not-exist");
    await missing.stop();
  });

  it("stop() is idempotent, releases the serial port and leaves no timers behind", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    io = createFirmataPillarIo(options(socat.b));
    await io.start();
    io.outputs.strobe.write(true);
    io.outputs.alarm.write(true);
    await waitFor(() => !emu.getPin(PINS.strobe) && emu.getPin(PINS.alarm), "outputs active");
    await Promise.all([io.stop(), io.stop()]);
    await waitFor(() => emu.getPin(PINS.strobe) && !emu.getPin(PINS.alarm), "outputs left inactive");
    const sent = emu.received.filter((c) => c === "REPORT_VERSION").length;
    // the driver's flock on the pty is gone: another exclusive open succeeds
    const again = new SerialPort({ path: socat.b, baudRate: 57600, autoOpen: false });
    await new Promise<void>((resolve, reject) => again.open((e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve) => again.close(() => resolve()));
    await io.stop(); // and once more, after the fact
    await sleep(3 * HEARTBEAT_MS);
    expect(emu.received.filter((c) => c === "REPORT_VERSION").length).toBe(sent); // no heartbeat after stop
    expect(timers()).toBeLessThanOrEqual(before);
  });
});
