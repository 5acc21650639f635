import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { PillarConfig } from "../../../config/schema.js";
import { createPillarIo } from "../../app/create-io.js";
import { PillarApp } from "../../app/pillar-app.js";
import type { EmbeddedBroker } from "../../broker/embedded-broker.js";
import { parseJsonText } from "../../config/config-errors.js";
import { validateConfig } from "../../config/validate-config.js";
import { moduleLogger, rootLogger } from "../../log/logger.js";
import { parseCliArgs, portArg } from "../args.js";
import type { CliCommand } from "../cli-command.js";
import { PROJECT_ROOT, SOFTWARE_VERSION } from "../version.js";
import { runExtensions } from "./run-extensions.js";

export const DEFAULT_CONFIG = process.env.PILLAR_CONFIG ?? "/etc/alarm-pillar/config.json";
export const SIM_CONFIG = join(PROJECT_ROOT, "config/examples/sim.json");

const options = {
  config: { type: "string" },
  sim: { type: "boolean" },
  broker: { type: "string" },
  "data-dir": { type: "string" },
  id: { type: "string" },
  "control-port": { type: "string" },
  "embedded-port": { type: "string" },
  "console-port": { type: "string" },
  "provision-port": { type: "string" },
} as const;

export type RunFlags = ReturnType<typeof parseCliArgs<typeof options>>["values"];

/** Load the config file and lay the command-line flags over it, then validate the result. */
export async function resolveRunConfig(
  v: RunFlags,
  brokerUrl?: string,
): Promise<{ config: PillarConfig; path: string }> {
  const path = v.config ?? (v.sim ? SIM_CONFIG : DEFAULT_CONFIG);
  // Repair the config folder first (a crash mid-apply, an unconfirmed config): the file read
  // below is then always a whole, confirmed config, and the flags apply on top of it.
  if (resolve(path) !== resolve(SIM_CONFIG)) {
    const { recoverConfigDir } = await import("../../provisioning/config-applier.js");
    await recoverConfigDir(path, moduleLogger("config-applier"));
  }
  const doc = parseJsonText(await readFile(path, "utf8"), path) as {
    [k: string]: unknown;
    hal?: object;
    broker?: object;
    pillar?: object;
    control?: object;
  };
  if (v.sim) doc.hal = { ...doc.hal, driver: "sim" };
  if (brokerUrl ?? v.broker) doc.broker = { ...doc.broker, url: brokerUrl ?? v.broker };
  if (v["data-dir"]) doc.dataDir = v["data-dir"];
  if (v.id) doc.pillar = { ...doc.pillar, id: v.id };
  const cp = portArg(v["control-port"], "--control-port");
  if (cp !== undefined) doc.control = { ...doc.control, port: cp };
  return { config: validateConfig(doc, `${path} (with command-line flags)`), path };
}

export const command: CliCommand = {
  name: "run",
  summary: "run the pillar (add --sim for simulated hardware and an embedded broker)",
  usage:
    "pillar run [--config FILE] [--sim] [--broker URL] [--data-dir DIR] [--id ID] [--control-port N] [--embedded-port N] [--provision-port PATH]\n" +
    `  --config   default: ${DEFAULT_CONFIG} (env PILLAR_CONFIG), with --sim: config/examples/sim.json\n` +
    "  --sim      simulated button, tamper and LEDs, driven on the control endpoint (127.0.0.1)\n" +
    "  --broker   MQTT URL; with --sim and no --broker an embedded broker is started, and the\n" +
    "             operator page on 127.0.0.1:--console-port (default 8790)",
  async run(argv) {
    const { values: v } = parseCliArgs(argv, options, false);
    const consolePort = portArg(v["console-port"], "--console-port") ?? 8790;
    const log = rootLogger();
    let broker: EmbeddedBroker | undefined;
    if (v.sim && !v.broker) {
      // loaded only here: a production pillar never loads aedes
      const { EmbeddedBroker } = await import("../../broker/embedded-broker.js");
      broker = new EmbeddedBroker({
        port: portArg(v["embedded-port"], "--embedded-port") ?? 1884,
        log: moduleLogger("broker", log),
      });
      await broker.start();
    }
    const { config, path } = await resolveRunConfig(v, broker?.url);
    log.level = config.log.level;
    const app = new PillarApp({
      config,
      createIo: (c) => createPillarIo(c, moduleLogger("hal", log)),
      version: SOFTWARE_VERSION,
      log,
    });
    await runExtensions(app, { flags: v, configPath: path, broker });
    await app.start();
    // the demo: the operator page beside the simulated pillar, on the embedded broker
    const consoleServer = broker ? await startDemoConsole(broker.url, app.control.port, consolePort) : undefined;
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, "stopping");
      await consoleServer?.stop();
      await app.stop();
      await broker?.stop();
      process.exit(0);
    };
    process.on("SIGTERM", () => void shutdown("SIGTERM"));
    process.on("SIGINT", () => void shutdown("SIGINT"));
    return -1;
  },
};

/** The operator console for the demo, in this process, wired to the embedded broker and the sim pillar. */
async function startDemoConsole(
  brokerUrl: string,
  controlPort: number,
  port: number,
): Promise<{ stop(): Promise<void> }> {
  const { ConsoleServer } = await import("../../console/console-server.js");
  const make = (p: number) =>
    new ConsoleServer({
      brokerUrl,
      port: p,
      simControlUrl: `http://127.0.0.1:${controlPort}`,
      log: moduleLogger("console", rootLogger()),
    });
  let server = make(port);
  try {
    await server.start();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    await server.stop().catch(() => undefined);
    server = make(0); // the port is taken: any free one
    await server.start();
  }
  console.error(
    `\n  operator console: ${server.url}   (press the virtual SOS button there)\n  broker: ${brokerUrl}   control endpoint: http://127.0.0.1:${controlPort}\n`,
  );
  return server;
}
