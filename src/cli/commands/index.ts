import type { CliCommand } from "../cli-command.js";

/** One `pillar` subcommand, loaded only when it is run (so `pillar run` loads no fleet or flash code). */
export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<CliCommand>;
}

/** Every `pillar` subcommand; features add theirs here. */
export const commands: CommandEntry[] = [
  {
    name: "run",
    summary: "run the pillar (add --sim for simulated hardware and an embedded broker)",
    load: async () => (await import("./run.js")).command,
  },
  {
    name: "config",
    summary: "validate, migrate or print the config schema",
    load: async () => (await import("./config.js")).command,
  },
  {
    name: "sim",
    summary: "drive a simulated pillar: press, release, tamper-open, tamper-close, leds, state, health",
    load: async () => (await import("./sim.js")).command,
  },
  {
    name: "fleet",
    summary: "build and sign configs for a fleet of pillars from an inventory CSV; simulate a fleet",
    load: async () => (await import("./fleet.js")).command,
  },
  {
    name: "flash",
    summary: "put a signed config on a pillar over a serial cable, a boot partition or MQTT",
    load: async () => (await import("./flash.js")).command,
  },
  {
    name: "keys",
    summary: "fleet signing key pair, fleet TLS CA, pillar certificates",
    load: async () => (await import("./keys.js")).command,
  },
  {
    name: "selftest",
    summary: "prove every part of the pillar works (checks, live progress, report); asks a running pillar to run it",
    load: async () => (await import("./selftest.js")).command,
  },
  {
    name: "console",
    summary: "serve the operator page: alarms with live video, two-way audio, acknowledge",
    load: async () => (await import("./console.js")).command,
  },
  {
    name: "clips",
    summary: "list the recorded clips or export one as an MP4 (pillar clips list|export ID --out F)",
    load: async () => (await import("./clips.js")).command,
  },
];
