/**
 * The Firmata driver against a real serial line: socat makes a pty pair, the Firmata emulator
 * (the co-processor) holds one end, the driver (serialport + firmata-io + johnny-five) the other.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SerialPort } from "serialport";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFirmataPillarIo, type FirmataPillarIoOptions } from "../../hal/firmata/firmata-pillar-io.js";
import type { PillarIo } from "../../hal/pillar-io.js";
import { FirmataEmulator } from "./firmata-emulator.js";

const HEARTBEAT_MS = 250;
const { MODE } = FirmataEmulator;
const PINS = { button: 2, tamper: 3, ready: 8, alarm: 9, answered: 10, strobe: 11 } as const;

type Socat = { proc: ChildProcess; device: string; host: string };

/** Every process a test started: afterEach kills each one by its pid. */
const started: ChildProcess[] = [];

/** Starts `socat -d -d pty,raw,echo=0 pty,raw,echo=0` (+ `link=` symlinks, like /dev/serial/by-id/...). */
function startSocat(links?: { device: string; host: string }): Promise<Socat> {
  const end = (link?: string) => `pty,raw,echo=0${link ? `,link=${link}` : ""}`;
  const proc = spawn("socat", ["-d", "-d", end(links?.device), end(links?.host)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  started.push(proc);
  return new Promise((resolve, reject) => {
    let err = "";
    const timer = setTimeout(() => reject(new Error(`socat did not start: ${err}`)), 5_000);
    proc.on("error", (e) => (clearTimeout(timer), reject(e)));
    proc.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk;
      const ptys = [...err.matchAll(/PTY is (\/dev\/pts\/\d+)/g)].map((m) => m[1]!);
      if (ptys.length === 2 && err.includes("starting data transfer loop")) {
        clearTimeout(timer);
        resolve({ proc, device: links?.device ?? ptys[0]!, host: links?.host ?? ptys[1]! });
      }
    });
  });
}

const alive = (proc: ChildProcess) => proc.exitCode === null && proc.signalCode === null;

/** Kills a process the test started, by its pid, and waits for it to be gone. */
async function killByPid(proc: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!alive(proc) || proc.pid === undefined) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  process.kill(proc.pid, signal);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000))]);
  if (!alive(proc)) return;
  process.kill(proc.pid, "SIGKILL");
  await exited;
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 3_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

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

/** Collects faults/recoveries of every line of a PillarIo, with their times. */
function watchFaults(io: PillarIo) {
  const faults: { line: string; err: Error; at: number }[] = [];
  const recovers: string[] = [];
  for (const line of [io.button, io.tamper]) {
    line.onFault((err) => faults.push({ line: line.name, err, at: Date.now() }));
    line.onRecover(() => recovers.push(line.name));
  }
  for (const o of Object.values(io.outputs)) o.onFault((err) => faults.push({ line: o.name, err, at: Date.now() }));
  return { faults, recovers };
}

const ALL_LINES = ["alarm", "answered", "button", "ready", "strobe", "tamper"];

describe("firmata driver over a socat pty pair", () => {
  let socat: Socat;
  let emu: FirmataEmulator;
  let io: PillarIo | undefined;

  beforeEach(async () => {
    socat = await startSocat();
    emu = new FirmataEmulator({ path: socat.device });
    await emu.start();
  });

  afterEach(async () => {
    await io?.stop();
    io = undefined;
    await emu.stop();
    for (const proc of started.splice(0)) await killByPid(proc);
  });

  it("starts, sets pin modes and drives the outputs inactive (activeLow inverted)", async () => {
    const sigints = process.listenerCount("SIGINT");
    io = createFirmataPillarIo(options(socat.host));
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
    io = createFirmataPillarIo(options(socat.host));
    await io.start();
    const button: { active: boolean; at: number }[] = [];
    const tamper: boolean[] = [];
    io.button.onChange((active, at) => button.push({ active, at }));
    io.tamper.onChange((active) => tamper.push(active));

    const t0 = Date.now();
    emu.setPin(PINS.button, false); // contact pulls the activeLow line to ground: pressed
    await waitFor("button press", () => button.length === 1);
    expect(button[0]!.active).toBe(true);
    expect(button[0]!.at).toBeGreaterThanOrEqual(t0);
    expect(button[0]!.at).toBeLessThanOrEqual(Date.now());
    expect(io.button.read()).toBe(true);

    emu.setPin(PINS.button, true);
    emu.setPin(PINS.button, false);
    emu.setPin(PINS.button, true); // bounce: every raw edge is reported, none is debounced here
    await waitFor("three more button edges", () => button.length === 4);
    expect(button.map((e) => e.active)).toEqual([true, false, true, false]);

    emu.setPin(PINS.tamper, true); // active-high input, same port as the button
    await waitFor("tamper edge", () => tamper.length === 1);
    expect(tamper).toEqual([true]);
    expect(button).toHaveLength(4); // a report of the shared port is not a button edge
  });

  it("writes to the outputs reach the co-processor", async () => {
    io = createFirmataPillarIo(options(socat.host));
    await io.start();
    io.outputs.alarm.write(true);
    io.outputs.strobe.write(true);
    await waitFor("alarm high, strobe low", () => emu.getPin(PINS.alarm) && !emu.getPin(PINS.strobe));
    expect(io.outputs.alarm.read()).toBe(true);
    expect(io.outputs.strobe.read()).toBe(true);
    expect(emu.getPin(PINS.ready)).toBe(false);

    io.outputs.alarm.write(false);
    io.outputs.ready.write(true);
    await waitFor("alarm low, ready high", () => !emu.getPin(PINS.alarm) && emu.getPin(PINS.ready));
    expect(emu.getPin(PINS.strobe)).toBe(false); // untouched: still active
  });

  it("faults every line when the co-processor stops answering, recovers when it answers again", async () => {
    io = createFirmataPillarIo(options(socat.host));
    await io.start();
    const { faults, recovers } = watchFaults(io);
    const t0 = Date.now();
    emu.freeze(true); // the port stays open: serialport itself notices nothing
    await waitFor("faults", () => faults.length === 6, 4 * HEARTBEAT_MS);
    expect(faults.map((f) => f.line).sort()).toEqual(ALL_LINES);
    expect(faults[0]!.err.message).toContain(socat.host);
    expect(faults[0]!.err.message).toMatch(/heartbeat/);
    expect(Math.max(...faults.map((f) => f.at)) - t0).toBeLessThanOrEqual(2 * HEARTBEAT_MS + 250);

    io.outputs.alarm.write(true); // while down: remembered, applied on recovery
    emu.freeze(false);
    await waitFor("recovery", () => recovers.length === 2, 4 * HEARTBEAT_MS);
    expect(recovers.sort()).toEqual(["button", "tamper"]);
    await waitFor("alarm applied after recovery", () => emu.getPin(PINS.alarm));
    expect(faults).toHaveLength(6); // one fault per line per outage, not one per missed beat
  });

  it("faults within two heartbeats when socat (the serial peer) is killed", async () => {
    io = createFirmataPillarIo(options(socat.host));
    await io.start();
    const { faults } = watchFaults(io);
    const t0 = Date.now();
    await killByPid(socat.proc, "SIGKILL");
    await waitFor("faults", () => faults.length === 6, 4 * HEARTBEAT_MS);
    expect(faults.map((f) => f.line).sort()).toEqual(ALL_LINES);
    expect(faults[0]!.err.message).toContain(socat.host);
    expect(Math.max(...faults.map((f) => f.at)) - t0).toBeLessThanOrEqual(2 * HEARTBEAT_MS + 250);
  });

  it("faults within two heartbeats when the emulator closes its end", async () => {
    io = createFirmataPillarIo(options(socat.host));
    await io.start();
    const { faults } = watchFaults(io);
    const t0 = Date.now();
    await emu.stop();
    await waitFor("faults", () => faults.length === 6, 4 * HEARTBEAT_MS);
    expect(faults[0]!.err.message).toContain(socat.host);
    expect(Math.max(...faults.map((f) => f.at)) - t0).toBeLessThanOrEqual(2 * HEARTBEAT_MS + 250);
  });

  it("re-applies pin modes, reporting and output levels after the co-processor reboots", async () => {
    io = createFirmataPillarIo(options(socat.host));
    await io.start();
    io.outputs.answered.write(true);
    await waitFor("answered high", () => emu.getPin(PINS.answered));
    emu.reboot(); // modes and latches lost; the board announces its firmware unasked
    expect(emu.pinMode(PINS.button)).toBeUndefined();
    await waitFor("set-up re-applied", () => emu.pinMode(PINS.button) === MODE.PULLUP && emu.getPin(PINS.answered));
    expect(emu.pinMode(PINS.strobe)).toBe(MODE.OUTPUT);
    expect(emu.getPin(PINS.strobe)).toBe(true);
    const edges: boolean[] = [];
    io.button.onChange((a) => edges.push(a));
    emu.setPin(PINS.button, false);
    await waitFor("edge after reboot", () => edges.length === 1);
    expect(edges).toEqual([true]);
  });

  it("reopens the port after the serial device went away and came back, then recovers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pillar-firmata-"));
    try {
      const links = { device: join(dir, "device"), host: join(dir, "host") };
      await emu.stop();
      await killByPid(socat.proc);
      socat = await startSocat(links);
      emu = new FirmataEmulator({ path: socat.device });
      await emu.start();
      io = createFirmataPillarIo(options(links.host));
      await io.start();
      const { faults, recovers } = watchFaults(io);

      await killByPid(socat.proc); // the USB cable is pulled: the device node disappears
      await emu.stop();
      await waitFor("faults", () => faults.length === 6, 4 * HEARTBEAT_MS);
      expect(faults[0]!.err.message).toContain(links.host);
      io.outputs.alarm.write(true);

      socat = await startSocat(links); // plugged back in: same path, a fresh co-processor
      emu = new FirmataEmulator({ path: socat.device });
      await emu.start();
      await waitFor("recovery", () => recovers.length === 2, 5_000);
      await waitFor(
        "set-up and alarm re-applied on the new link",
        () => emu.pinMode(PINS.button) === MODE.PULLUP && emu.getPin(PINS.alarm),
      );
      const edges: boolean[] = [];
      io.button.onChange((a) => edges.push(a));
      emu.setPin(PINS.button, false);
      await waitFor("edge on the new link", () => edges.length === 1);
      expect(edges).toEqual([true]);
    } finally {
      await io?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("start() rejects, naming the port, when the board does not answer or the port does not exist", async () => {
    emu.freeze(true);
    const silent = createFirmataPillarIo(options(socat.host, { startTimeoutMs: 800 }));
    await expect(silent.start()).rejects.toThrow(socat.host);
    await silent.stop();
    const missing = createFirmataPillarIo(options("/dev/pts/does-not-exist"));
    await expect(missing.start()).rejects.toThrow("/dev/pts/does-not-exist");
    await missing.stop();
  });

  it("stop() is idempotent, releases the serial port and leaves no timers behind", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    io = createFirmataPillarIo(options(socat.host));
    await io.start();
    io.outputs.strobe.write(true);
    io.outputs.alarm.write(true);
    await waitFor("outputs active", () => !emu.getPin(PINS.strobe) && emu.getPin(PINS.alarm));
    await Promise.all([io.stop(), io.stop()]);
    await waitFor("outputs left inactive", () => emu.getPin(PINS.strobe) && !emu.getPin(PINS.alarm), 1_000);
    const sent = emu.received.filter((c) => c === "REPORT_VERSION").length;
    // the driver's flock on the pty is gone: another exclusive open succeeds
    const again = new SerialPort({ path: socat.host, baudRate: 57600, autoOpen: false });
    await new Promise<void>((resolve, reject) => again.open((e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve) => again.close(() => resolve()));
    await io.stop(); // and once more, after the fact
    await new Promise((r) => setTimeout(r, 3 * HEARTBEAT_MS));
    expect(emu.received.filter((c) => c === "REPORT_VERSION").length).toBe(sent); // no heartbeat after stop
    expect(timers()).toBeLessThanOrEqual(before);
  });
});
