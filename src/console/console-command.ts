import { parseCliArgs, portArg } from "../cli/args.js";
import type { CliCommand } from "../cli/cli-command.js";
import { moduleLogger, rootLogger } from "../log/logger.js";
import { ConsoleServer } from "./console-server.js";

const options = {
  broker: { type: "string" },
  username: { type: "string" },
  port: { type: "string" },
  host: { type: "string" },
  "sim-control": { type: "string" },
  "secondary-topic": { type: "string" },
} as const;

/** `pillar console`: the operator page (docs/call.md "Console"). */
export const command: CliCommand = {
  name: "console",
  summary: "serve the operator page (alarms with live video, two-way audio, acknowledge)",
  usage:
    "pillar console [--broker URL] [--username U] [--port N] [--host ADDR] [--sim-control URL] [--secondary-topic T]\n" +
    "  --broker        the center's MQTT broker (default mqtt://127.0.0.1:1884, the sim's embedded one); password from env CONSOLE_MQTT_PASSWORD\n" +
    "  --port          HTTP port of the page (default 8790); --host listen address (default 127.0.0.1)\n" +
    "  --sim-control   a simulated pillar's control endpoint, e.g. http://127.0.0.1:8787: shows a virtual SOS button\n" +
    "  --secondary-topic  also take offers re-routed to this secondary-center topic prefix",
  async run(argv) {
    const { values: v } = parseCliArgs(argv, options, false);
    const log = rootLogger();
    const server = new ConsoleServer({
      brokerUrl: v.broker ?? "mqtt://127.0.0.1:1884",
      username: v.username,
      password: process.env.CONSOLE_MQTT_PASSWORD,
      port: portArg(v.port, "--port") ?? 8790,
      host: v.host,
      simControlUrl: v["sim-control"],
      secondaryTopic: v["secondary-topic"],
      log: moduleLogger("console", log),
    });
    await server.start();
    console.error(`operator console: ${server.url}`);
    const stop = async () => {
      await server.stop();
      process.exit(0);
    };
    process.on("SIGTERM", () => void stop());
    process.on("SIGINT", () => void stop());
    return -1;
  },
};
