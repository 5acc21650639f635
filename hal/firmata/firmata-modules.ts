/**
 * Typed access to the two CommonJS libraries behind the Firmata driver: `firmata-io` (the
 * protocol, host side) and `johnny-five` (board lifecycle). Neither ships type declarations, so
 * they are loaded with `createRequire` and given the small surface this driver uses; nothing
 * here leaks an ambient `declare module` into the rest of the project.
 */
import { createRequire } from "node:module";
import type { EventEmitter } from "node:events";

/** Firmata pin modes used here (firmata-io `io.MODES`). */
export const PIN_MODE = { INPUT: 0x00, OUTPUT: 0x01, PULLUP: 0x0b } as const;

/** Firmata protocol bytes the driver writes itself (heartbeat and handshake). */
export const FIRMATA_BYTES = {
  REPORT_VERSION: 0xf9,
  START_SYSEX: 0xf0,
  QUERY_FIRMWARE: 0x79,
  END_SYSEX: 0xf7,
} as const;

export interface FirmataPin {
  supportedModes: number[];
  mode?: number;
  value: number;
  report?: number;
}

/** The part of a firmata-io `Firmata` instance (the johnny-five "io") the driver uses. */
export interface FirmataIo extends EventEmitter {
  isReady: boolean;
  pins: FirmataPin[];
  firmware: { name?: string; version?: { major: number; minor: number } };
  version: { major?: number; minor?: number };
  reportVersionTimeoutId?: NodeJS.Timeout;
  pinMode(pin: number, mode: number): void;
  digitalWrite(pin: number, value: 0 | 1): void;
  reportDigitalPin(pin: number, value: 0 | 1): void;
}

export interface FirmataCtor {
  new (transport: object, options?: { reportVersionTimeout?: number; skipCapabilities?: boolean }): FirmataIo;
}

/** The part of a johnny-five `Board` the driver uses. */
export interface FiveBoard extends EventEmitter {
  isReady: boolean;
  io: FirmataIo;
  timer: NodeJS.Timeout | null;
}

export interface FiveBoardCtor {
  new (opts: { io: FirmataIo; repl: false; debug: false; sigint: false; id?: string }): FiveBoard;
  /** johnny-five's module-level list of every board ever made (components default to [0]). */
  readonly cache: FiveBoard[];
}

const require = createRequire(import.meta.url);

let loaded: { Firmata: FirmataCtor; Board: FiveBoardCtor } | undefined;

/** Loads firmata-io and johnny-five on first use (so the sim/gpio drivers never pay for them). */
export function firmataModules(): { Firmata: FirmataCtor; Board: FiveBoardCtor } {
  if (!loaded) {
    // firmata-io exports a transport-binding factory; the class itself hangs off it as `.Firmata`.
    const firmataIo = require("firmata-io") as { Firmata: FirmataCtor };
    const five = require("johnny-five") as { Board: FiveBoardCtor };
    loaded = { Firmata: firmataIo.Firmata, Board: five.Board };
  }
  return loaded;
}
