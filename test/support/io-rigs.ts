import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { createFirmataPillarIo } from "../../hal/firmata/firmata-pillar-io.js";
import { createGpioPillarIo } from "../../hal/gpio/gpio-pillar-io.js";
import type { OutputName, PillarIo } from "../../hal/pillar-io.js";
import { createPillarIo } from "../../src/app/drivers.js";
import { validateConfig } from "../../src/config/validate-config.js";
import { FirmataEmulator } from "./firmata-emulator.js";
import { GpioTools } from "./gpio-tools.js";
import { stopPid } from "./processes.js";
import { testConfigDoc } from "./sim-pillar.js";
import { SocatPair } from "./socat-pair.js";

export type InputName = "button" | "tamper";

/** The wiring every rig uses: an activeLow button and strobe, the rest active-high. */
export const WIRING = {
  inputs: { button: { pin: 2, activeLow: true }, tamper: { pin: 3, activeLow: false } },
  outputs: {
    ready: { pin: 8, activeLow: false },
    alarm: { pin: 9, activeLow: false },
    answered: { pin: 10, activeLow: false },
    strobe: { pin: 11, activeLow: true },
  },
} as const;

/**
 * One digital-I/O driver, running here, with the other side of its wires in the test's hands:
 * the same contract cases run on every rig (test/hal/io-contract.test.ts).
 */
export interface IoRig {
  readonly driver: string;
  /** The driver under test; not started. */
  readonly io: PillarIo;
  /** Drive an input's wire so that the line reads `active` (logical, after `activeLow`). */
  setInput(name: InputName, active: boolean): void;
  /** The logical level the wire of an output shows; undefined while nothing drives it. */
  outputLevel(name: OutputName): boolean | undefined;
  /** The input's line stops working (the co-processor hangs, gpiomon dies, the cable is cut). */
  breakInput(name: InputName): Promise<void>;
  /** It works again (nothing to do where the driver recovers by itself). */
  healInput(name: InputName): Promise<void>;
  /** Stop the driver and everything the rig started (by pid). */
  dispose(): Promise<void>;
}

/**
 * The sim driver, picked by the composition root from a sim config (as `pillar run --sim`); its
 * wires are the hooks it offers (`simControls()`, the demo's /sim/ routes).
 */
async function simRig(): Promise<IoRig> {
  const io = await createPillarIo(validateConfig(testConfigDoc(), "sim rig"), pino({ level: "silent" }));
  const hook = (path: string) => {
    const control = io.simControls?.().find((c) => c.path === path);
    if (!control) throw new Error(`the sim driver offers no ${path}`);
    void control.handle(new URLSearchParams());
  };
  const paths = {
    button: {
      true: "/sim/button/press",
      false: "/sim/button/release",
      break: "/sim/button/fail",
      heal: "/sim/button/restore",
    },
    tamper: { true: "/sim/tamper/open", false: "/sim/tamper/close", break: "", heal: "" },
  };
  return {
    driver: "sim",
    io,
    setInput: (name, active) => hook(paths[name][`${active}`]),
    outputLevel: (name) => io.outputs[name].read(),
    breakInput: async (name) => hook(paths[name].break),
    healInput: async (name) => hook(paths[name].heal),
    dispose: () => io.stop(),
  };
}

/** Firmata over a real pty pair (socat) to the Firmata emulator, the co-processor's side. */
async function firmataRig(): Promise<IoRig> {
  const pair = await new SocatPair().start();
  const emu = new FirmataEmulator({ path: pair.a });
  await emu.start();
  const io = createFirmataPillarIo({ port: pair.b, baudRate: 57600, heartbeatMs: 250, ...WIRING });
  const { MODE } = FirmataEmulator;
  return {
    driver: "firmata",
    io,
    setInput: (name, active) => emu.setPin(WIRING.inputs[name].pin, active !== WIRING.inputs[name].activeLow),
    outputLevel: (name) => {
      const { pin, activeLow } = WIRING.outputs[name];
      return emu.pinMode(pin) === MODE.OUTPUT ? emu.getPin(pin) !== activeLow : undefined;
    },
    breakInput: async () => emu.freeze(true), // the firmware hangs: every line of the link faults
    healInput: async () => emu.freeze(false),
    dispose: async () => {
      await io.stop();
      await emu.stop();
      await pair.kill();
    },
  };
}

/** GPIO through stand-in libgpiod tools (test/support/gpio-tools.ts). */
async function gpioRig(): Promise<IoRig> {
  const tools = new GpioTools();
  const io = createGpioPillarIo({ chipLabel: "pinctrl-rp1", toolDir: tools.dir, ...WIRING });
  const wire = (name: InputName, active: boolean) => active !== WIRING.inputs[name].activeLow;
  for (const name of ["button", "tamper"] as const) tools.setLevel(WIRING.inputs[name].pin, wire(name, false)); // at rest
  return {
    driver: "gpio",
    io,
    setInput: (name, active) => {
      const { pin } = WIRING.inputs[name];
      // an edge only while gpiomon watches the line (it replays its events file when it starts)
      if (tools.monitor(pin)) tools.edge(pin, wire(name, active));
      else tools.setLevel(pin, wire(name, active));
    },
    outputLevel: (name) => {
      const high = tools.lastSet(WIRING.outputs[name].pin);
      return high === undefined ? undefined : high !== WIRING.outputs[name].activeLow;
    },
    breakInput: async (name) => {
      const { pin } = WIRING.inputs[name];
      writeFileSync(join(tools.dir, `events-${pin}`), ""); // the restarted gpiomon replays nothing old
      await stopPid(tools.monitor(pin), "SIGKILL");
    },
    healInput: async () => {}, // the driver restarts gpiomon with backoff
    dispose: async () => {
      await io.stop();
      await tools.dispose();
    },
  };
}

export const IO_RIGS: Record<string, () => Promise<IoRig>> = { sim: simRig, firmata: firmataRig, gpio: gpioRig };
