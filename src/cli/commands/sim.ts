import { parseCliArgs, portArg } from "../args.js";
import { UsageError, type CliCommand } from "../cli-command.js";

const ACTIONS: Record<string, [method: "GET" | "POST", path: string]> = {
  press: ["POST", "/sim/button/press"],
  release: ["POST", "/sim/button/release"],
  "tamper-open": ["POST", "/sim/tamper/open"],
  "tamper-close": ["POST", "/sim/tamper/close"],
  leds: ["GET", "/sim/leds"],
  state: ["GET", "/state"],
  health: ["GET", "/health"],
};

async function call(port: number, method: string, path: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  } catch {
    throw new Error(
      `no simulated pillar answers on 127.0.0.1:${port} (is \`pillar run --sim\` running? --control-port)`,
    );
  }
  const body = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(body)}`);
  return body;
}

export const command: CliCommand = {
  name: "sim",
  summary: "drive a simulated pillar: press, release, tamper-open, tamper-close, leds, state, health",
  usage:
    "pillar sim <press|release|tamper-open|tamper-close|leds|state|health> [--port N] [--hold MS]\n" +
    "  press     presses and, after --hold ms (default 200), releases the button; --hold 0 keeps it held",
  async run(argv) {
    const { values, positionals } = parseCliArgs(argv, { port: { type: "string" }, hold: { type: "string" } });
    const action = positionals[0];
    const port = portArg(values.port, "--port") ?? 8787;
    const route = action ? ACTIONS[action] : undefined;
    if (!action || !route) throw new UsageError(`choose an action: ${Object.keys(ACTIONS).join(", ")}`);
    const out = await call(port, ...route);
    if (action === "press") {
      const hold = Number(values.hold ?? 200);
      if (!Number.isFinite(hold) || hold < 0) throw new UsageError("--hold takes milliseconds");
      if (hold > 0) {
        await new Promise((r) => setTimeout(r, hold));
        await call(port, "POST", "/sim/button/release");
      }
    }
    console.log(JSON.stringify(out, null, 2));
    return 0;
  },
};
