import { composePillar } from "../../app/compose-pillar.js";
import type { EmbeddedBroker } from "../../broker/embedded-broker.js";
import { moduleLogger, rootLogger } from "../../log/logger.js";
import { parseCliArgs, portArg } from "../args.js";
import type { CliCommand } from "../cli-command.js";
import { SOFTWARE_VERSION } from "../version.js";
import { DEFAULT_CONFIG, resolveRunConfig, runOptions, SIM_CONFIG } from "./run-config.js";

export { DEFAULT_CONFIG, resolveRunConfig, runOverlay, SIM_CONFIG, type RunFlags } from "./run-config.js";

export const command: CliCommand = {
  name: "run",
  summary: "run the pillar (add --sim for simulated hardware and an embedded broker)",
  usage:
    "pillar run [--config FILE] [--sim] [--broker URL] [--data-dir DIR] [--id ID] [--control-port N] [--embedded-port N] [--provision-port PATH]\n" +
    `  --config   default: ${DEFAULT_CONFIG} (env PILLAR_CONFIG), with --sim: config/examples/sim.json\n` +
    "  --sim      simulated button, tamper and LEDs, driven on the control endpoint (127.0.0.1)\n" +
    "  --broker   MQTT URL; with --sim and no --broker an embedded broker is started, and the\n" +
    "             operator page on 127.0.0.1:--console-port (default 8790)\n" +
    "  --id       the pillar id, for the config file read at start only\n" +
    "Flags and applied configs: --sim, --broker (or the demo's embedded broker), --data-dir and\n" +
    "--control-port describe this process: they are laid over every config the pillar takes (the\n" +
    "file, the boot partition's, a serial flash, MQTT config.apply). Identity and location (pillar.id,\n" +
    "location…) always come from the applied config.",
  async run(argv) {
    const { values: v } = parseCliArgs(argv, runOptions, false);
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
    const { config, path, overlay } = await resolveRunConfig(v, broker?.url);
    log.level = config.log.level;
    const app = composePillar({
      config,
      configPath: path,
      exampleConfigPath: SIM_CONFIG,
      overlay,
      provisionPort: v["provision-port"],
      version: SOFTWARE_VERSION,
      log,
    });
    await app.start();
    // the demo: the operator page beside the simulated pillar, on the embedded broker
    const consoleServer = broker ? await startDemoConsole(broker.url, app.core.control.port, consolePort) : undefined;
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

/**
 * The operator console for the demo: the center's program (center/main.ts) as a child process,
 * wired to the embedded broker and the sim pillar. The pillar process never loads it.
 */
async function startDemoConsole(
  brokerUrl: string,
  controlPort: number,
  port: number,
): Promise<{ stop(): Promise<void> }> {
  const { spawnCenter } = await import("./console.js");
  const args = ["--broker", brokerUrl, "--port", String(port), "--sim-control", `http://127.0.0.1:${controlPort}`];
  const child = spawnCenter([...args, "--any-port-if-taken", "--exit-with-parent"], "pipe");
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error("the console did not start within 30 s")), 30_000);
    child.stderr!.on("data", (d: Buffer) => {
      process.stderr.write(d);
      buf += d.toString();
      const m = /operator console: (\S+)/.exec(buf);
      if (m) clearTimeout(timer), resolve(m[1]!);
    });
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`the console exited (${code})`))));
  });
  console.error(
    `\n  operator console: ${url}   (press the virtual SOS button there)\n  broker: ${brokerUrl}   control endpoint: http://127.0.0.1:${controlPort}\n`,
  );
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
