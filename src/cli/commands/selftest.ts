import { pino } from "pino";
import { DataDirLock } from "../../app/data-dir-lock.js";
import type { PillarApp } from "../../app/pillar-app.js";
import type { EmbeddedBroker } from "../../broker/embedded-broker.js";
import { rootLoggerOptions, setRootLogger } from "../../log/logger.js";
import { parseCliArgs, portArg, portTaken } from "../args.js";
import { flagLines } from "../flag-help.js";
import { type CliCommand, UsageError } from "../cli-command.js";
import { SOFTWARE_VERSION } from "../version.js";
import { DEFAULT_CONFIG, resolveRunConfig, runDataDir } from "./run-config.js";
import { DEFAULT_CONTROL_PORT, locatePillar } from "./find-pillar.js";
import { watchSelftest } from "./selftest-client.js";

const options = {
  config: { type: "string" },
  sim: { type: "boolean" },
  json: { type: "boolean" },
  only: { type: "string" },
  "non-interactive": { type: "boolean" },
  "set-reference": { type: "boolean" },
  broker: { type: "string" },
  "data-dir": { type: "string" },
  "control-port": { type: "string" },
} as const;

/** Whether a pillar answers the self-test API on this control port (then it runs the test). */
async function answersSelftest(port: number): Promise<boolean> {
  if (port === 0) return false;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/selftest/last`, { signal: AbortSignal.timeout(1500) });
    return res.ok;
  } catch {
    return false;
  }
}

export const command: CliCommand = {
  name: "selftest",
  summary:
    "prove every part of the pillar works: checks with live progress, a report (JSON + HTML), exit 0 if all pass",
  usage:
    "pillar selftest [--config F] [--sim] [--json] [--only LIST] [--non-interactive] [--set-reference] [--control-port N] [--data-dir D] [--broker URL]\n" +
    flagLines([
      [
        "--config FILE",
        `the pillar's config (default: asked of the running pillar, else ${DEFAULT_CONFIG}; --sim: the sim config)`,
      ],
      ["--sim", "no pillar running: open simulated devices, with an embedded broker (default: off)"],
      ["--json", "print the report as JSON on stdout, progress on stderr (default: text)"],
      ["--only LIST", "comma-separated check ids or components, e.g. camera,audio.loop,button (default: all)"],
      ["--non-interactive", "skip the checks that need an installer (default: on without a terminal)"],
      ["--set-reference", 'commissioning: keep this camera view as the reference "moved" compares with (default: off)'],
      [
        "--control-port N",
        `where a running pillar is asked (default: the config's control.port, else ${DEFAULT_CONTROL_PORT})`,
      ],
      ["--data-dir DIR", "no pillar running: the data folder (default: the config's dataDir)"],
      ["--broker URL", "no pillar running: the MQTT broker (default: the config's broker.url)"],
    ]) +
    "\n" +
    "When a pillar already runs on the control port, it runs the test (the hardware has one owner);\n" +
    "otherwise this process opens the devices (with --sim and no --broker: an embedded broker).",
  async run(argv) {
    const { values: v } = parseCliArgs(argv, options, false);
    const only = v.only
      ? v.only
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
    if (only?.some((o) => !/^[a-z]+(\.[a-z]+)*$/.test(o))) throw new UsageError(`--only takes check ids: "${v.only}"`);
    const controlPort = portArg(v["control-port"], "--control-port");
    const out = v.json ? process.stderr : process.stdout;
    // nobody can answer a prompt without a terminal (a script, `ssh host pillar selftest`)
    const interactive = !v["non-interactive"] && Boolean(process.stdin.isTTY);
    if (!v["non-interactive"] && !interactive)
      out.write("no terminal to answer on: running non-interactive (the checks that need an installer are skipped)\n");
    // the pillar's logs (JSON) go to stderr, warnings and up: stdout is the report's
    const log = pino(rootLoggerOptions(process.env.PILLAR_LOG_LEVEL ?? "warn"), pino.destination(2));
    setRootLogger(log);
    const found = await locatePillar({ config: v.config, controlPort, sim: v.sim });
    let app: PillarApp | undefined;
    let broker: EmbeddedBroker | undefined;
    let lock: DataDirLock | undefined;
    let port = found.port;
    try {
      if (found.running || (await answersSelftest(port)))
        out.write(`a pillar is running on 127.0.0.1:${port}: it runs the self-test\n`);
      else {
        // the data folder's lock first: nothing runs beside a pillar there, not even the
        // config folder's repair (it could roll back the running pillar's trial config)
        const run = { ...v, config: found.configPath };
        lock = new DataDirLock({ dir: await runDataDir(run), what: "pillar selftest" });
        await lock.start();
        if (v.sim && !v.broker) {
          const { EmbeddedBroker } = await import("../../broker/embedded-broker.js");
          broker = new EmbeddedBroker({ port: 0, log });
          await broker.start();
        }
        const { config, path, overlay } = await resolveRunConfig(run, broker?.url);
        const { PillarApp } = await import("../../app/pillar-app.js");
        const { selftestFeature } = await import("../../selftest/selftest-feature.js");
        app = new PillarApp({
          config,
          overlay,
          version: SOFTWARE_VERSION,
          log,
          features: [selftestFeature({ configPath: path })],
          // the devices and the data folder have one owner: refused while a pillar runs there
          lockDataDir: { what: "pillar selftest" },
        });
        await app.start().catch((err: unknown) => {
          throw portTaken(err, "--control-port", "this self-test's control endpoint");
        });
        port = app.core.control.port;
      }
      const { report, cancelled } = await watchSelftest(port, {
        only,
        interactive,
        setReference: v["set-reference"] ?? false,
        out,
      });
      if (v.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      return cancelled ? 130 : report.ok ? 0 : 1;
    } finally {
      await app?.stop();
      await broker?.stop();
      await lock?.stop();
    }
  },
};
