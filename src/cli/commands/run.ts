import { composePillar } from "../../app/compose-pillar.js";
import type { EmbeddedBroker } from "../../broker/embedded-broker.js";
import { moduleLogger, rootLogger } from "../../log/logger.js";
import { parseCliArgs, portArg, portTaken } from "../args.js";
import { DataDirBusy, DataDirLock } from "../../app/data-dir-lock.js";
import type { CliCommand } from "../cli-command.js";
import { SOFTWARE_VERSION } from "../version.js";
import { DEFAULT_CONFIG, resolveRunConfig, runDataDir, runOptions, SIM_CONFIG } from "./run-config.js";

export { DEFAULT_CONFIG, resolveRunConfig, runOverlay, SIM_CONFIG, type RunFlags } from "./run-config.js";

export const command: CliCommand = {
  name: "run",
  summary: "run the pillar (add --sim for simulated hardware and an embedded broker)",
  usage:
    "pillar run [--config FILE] [--sim] [--broker URL] [--data-dir DIR] [--id ID] [--control-port N]\n" +
    "           [--embedded-port N] [--console-port N] [--provision-port PATH]\n" +
    `  --config FILE          the config file (default: ${DEFAULT_CONFIG}, env PILLAR_CONFIG; with --sim: config/examples/sim.json)\n` +
    "  --sim                  simulated button, tamper and LEDs, driven on the control endpoint (default: off)\n" +
    "  --broker URL           MQTT broker (default: the config's broker.url; with --sim: an embedded broker)\n" +
    "  --data-dir DIR         the data folder: journal, incidents, clips; one pillar per folder (default: the config's dataDir)\n" +
    "  --id ID                the pillar id of the config file read at start (default: the config's pillar.id)\n" +
    "  --control-port N       the control endpoint on 127.0.0.1, 0 = any free port (default: the config's control.port)\n" +
    "  --embedded-port N      the demo's embedded broker, with --sim and no --broker (default: 1884, or a free port when taken)\n" +
    "  --console-port N       the demo's operator page on 127.0.0.1 (default: 8790, or a free port when taken)\n" +
    "  --provision-port PATH  the serial port a config is flashed over (default: the config's provisioning.port)\n" +
    "Flags and applied configs: --sim, --broker (or the demo's embedded broker), --data-dir and\n" +
    "--control-port describe this process: they are laid over every config the pillar takes (the\n" +
    "file, the boot partition's, a serial flash, MQTT config.apply). Identity and location (pillar.id,\n" +
    "location…) always come from the applied config.",
  async run(argv) {
    const { values: v } = parseCliArgs(argv, runOptions, false);
    const consolePort = portArg(v["console-port"], "--console-port") ?? 8790;
    const embeddedPort = portArg(v["embedded-port"], "--embedded-port") ?? 1884;
    const log = rootLogger();
    const demo = Boolean(v.sim && !v.broker);
    // the data folder is locked before anything in it (or a port) is opened
    const lock = new DataDirLock({
      dir: await runDataDir(v),
      what: demo ? "the demo, pillar run --sim" : "pillar run",
      log: moduleLogger("lock", log),
    });
    await lock.start().catch((err: unknown) => {
      throw err instanceof DataDirBusy ? new Error(refusal(err, demo)) : err;
    });
    let broker: EmbeddedBroker | undefined;
    if (demo) {
      // loaded only here: a production pillar never loads aedes
      const { EmbeddedBroker } = await import("../../broker/embedded-broker.js");
      broker = new EmbeddedBroker({ port: embeddedPort, log: moduleLogger("broker", log) });
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
      lockDataDir: { what: lock.what },
      version: SOFTWARE_VERSION,
      log,
    });
    try {
      await app.start();
    } catch (err) {
      await broker?.stop();
      throw portTaken(err, "--control-port", "the control endpoint");
    }
    lock.describe({ controlPort: app.core.control.port });
    // the demo: the operator page beside the simulated pillar, on the embedded broker
    const consoleServer = broker ? await startDemoConsole(broker.url, app.core.control.port, consolePort) : undefined;
    if (consoleServer) lock.describe({ consoleUrl: consoleServer.url });
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, "stopping");
      await consoleServer?.stop();
      await app.stop();
      await broker?.stop();
      await lock.stop();
      process.exit(0);
    };
    process.on("SIGTERM", () => void shutdown("SIGTERM"));
    process.on("SIGINT", () => void shutdown("SIGINT"));
    return -1;
  },
};

/** What a second `pillar run` on a locked folder is told: who runs there (the demo: where its page is). */
function refusal(err: DataDirBusy, demo: boolean): string {
  const h = err.holder;
  if (demo && h?.consoleUrl)
    return `the demo already runs (pid ${h.pid}, since ${h.since}): its operator page is ${h.consoleUrl}`;
  return `${err.message}; stop it first, or give this one its own --data-dir DIR`;
}

/**
 * The operator console for the demo: the center's program (center/main.ts) as a child process,
 * wired to the embedded broker and the sim pillar. The pillar process never loads it.
 */
async function startDemoConsole(
  brokerUrl: string,
  controlPort: number,
  port: number,
): Promise<{ url: string; stop(): Promise<void> }> {
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
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
