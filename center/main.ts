// The center's program: the officers' console server (and, beside it, the center's accounts, log
// and report). Its own entry point, run as `node --import tsx center/main.ts` or through
// `pillar console`, which starts it as a child process: a pillar never loads the center's
// dependencies (UI library, database drivers).
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { parseArgsProblem } from "../src/cli/args.js";
import { moduleLogger, rootLogger } from "../src/log/logger.js";
import { loadCenterParts, partsFlags, partsUsage } from "./parts.js";
import { ConsoleServer } from "./server/console-server.js";

const options = {
  broker: { type: "string" },
  username: { type: "string" },
  port: { type: "string" },
  host: { type: "string" },
  "sim-control": { type: "string" },
  "secondary-topic": { type: "string" },
  config: { type: "string" },
  "any-port-if-taken": { type: "boolean" },
  "exit-with-parent": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  ...partsFlags,
} as const;

export const USAGE = [
  "pillar console [--broker URL] [--username U] [--port N] [--host ADDR] [--config FILE] [--sim-control URL] [--secondary-topic T]",
  "  --broker URL    the center's MQTT broker (default mqtt://127.0.0.1:1884, the sim's embedded one); password from env CONSOLE_MQTT_PASSWORD",
  "  --username U    the MQTT user name (default: none)",
  "  --port N        HTTP port of the page (default 8790)",
  "  --host ADDR     the page's listen address (default 127.0.0.1)",
  "  --config FILE   the console's config file (time zone, tile server, overdue time…), see docs/console.md (default: built-in settings)",
  "  --sim-control URL  a simulated pillar's control endpoint, e.g. http://127.0.0.1:8787: shows a virtual SOS button (default: none)",
  "  --secondary-topic T  also take offers re-routed to this secondary-center topic prefix (default: none)",
  "  --any-port-if-taken  when --port is taken, listen on a free port instead (default: off; the demo uses it)",
  "  --exit-with-parent   stop when the process that started it ends (default: off; the demo uses it)",
  ...partsUsage,
].join("\n");

function fail(message: string, code: number): never {
  console.error(`pillar console: ${message}`);
  process.exit(code);
}

async function main(): Promise<void> {
  // `pillar console users add|passwd|remove|list …`: the officers' accounts, not the server.
  if (process.argv[2] === "users") {
    const { runUsersCli } = await import("./auth/users-cli.js");
    process.exit(await runUsersCli(process.argv.slice(3)));
  }
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({ args: process.argv.slice(2), options, allowPositionals: false, strict: true }).values;
  } catch (err) {
    fail(`${parseArgsProblem(err as NodeJS.ErrnoException)}\nusage: ${USAGE}`, 2);
  }
  if (v.help) {
    console.log(`usage: ${USAGE}`);
    process.exit(0);
  }
  const str = (k: string) => (typeof v[k] === "string" ? (v[k] as string) : undefined);
  const portText = str("port");
  const port = portText === undefined ? 8790 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--port must be a port number 0–65535, got "${portText}"`, 2);
  const log = rootLogger();
  const { loadConsoleConfig } = await import("./server/console-config.js");
  const config = await loadConsoleConfig(str("config"));
  const parts = await loadCenterParts({ flags: v, log, config });
  const make = (p: number) =>
    new ConsoleServer({
      brokerUrl: str("broker") ?? "mqtt://127.0.0.1:1884",
      username: str("username"),
      password: process.env.CONSOLE_MQTT_PASSWORD,
      port: p,
      host: str("host"),
      simControlUrl: str("sim-control"),
      secondaryTopic: str("secondary-topic"),
      config,
      parts,
      // with a log, a persistent session: what the pillars send while this server is away waits
      mqttClientId: parts.taps.length ? config.mqttClientId || `center-console-${hostname()}-${p}` : undefined,
      log: moduleLogger("console", log),
    });
  let server = make(port);
  try {
    await server.start();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || !v["any-port-if-taken"]) throw err;
    await server.stop().catch(() => undefined);
    server = make(0); // the demo: the port is taken, any free one
    await server.start();
  }
  // The line the demo (`pillar run --sim`) waits for to learn the URL.
  console.error(`operator console: ${server.url}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.stop();
    await parts.stop?.();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  // Started by a parent (the demo): when it goes, even by SIGKILL, its end of stdin closes.
  if (v["exit-with-parent"]) {
    process.stdin.on("end", () => void stop());
    process.stdin.on("error", () => void stop());
    process.stdin.resume();
  }
}

main().catch((err: Error) => fail(err.message, 1));
