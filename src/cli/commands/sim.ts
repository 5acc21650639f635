import { parseCliArgs, portArg } from "../args.js";
import { UsageError, type CliCommand } from "../cli-command.js";
import { askPillar, DEFAULT_CONTROL_PORT } from "./find-pillar.js";

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
      `no pillar answers on 127.0.0.1:${port}: start the demo (npm start, or pillar run --sim), or pass --port N (its control port)`,
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
    "  press         presses the button and releases it after --hold ms\n" +
    "  release       releases a held button\n" +
    "  tamper-open   opens the tamper switch (door open); tamper-close closes it\n" +
    "  leds          what the LEDs and the strobe relay show\n" +
    "  state         the pillar's state: incident, components, outbox, faults\n" +
    "  health        the health report\n" +
    `  --port N      the pillar's control port on 127.0.0.1 (default: ${DEFAULT_CONTROL_PORT}, control.port's default)\n` +
    "  --hold MS     press: how long the button is held (default: 200; 0 keeps it held)",
  async run(argv) {
    const { values, positionals } = parseCliArgs(argv, { port: { type: "string" }, hold: { type: "string" } });
    const action = positionals[0];
    const port = portArg(values.port, "--port") ?? DEFAULT_CONTROL_PORT;
    const route = action ? ACTIONS[action] : undefined;
    if (!action || !route) throw new UsageError(`choose an action: ${Object.keys(ACTIONS).join(", ")}`);
    // checked before the press: a bad --hold must not leave the button held
    const hold = Number(values.hold ?? 200);
    if (!Number.isInteger(hold) || hold < 0 || hold > 60_000)
      throw new UsageError(`--hold takes milliseconds 0–60000, got "${values.hold}"`);
    if (route[1].startsWith("/sim/")) {
      // the pillar says what it is: the hooks exist only on a simulated one
      const w = await askPillar(port);
      if (w && !w.sim)
        throw new Error(
          `the pillar on 127.0.0.1:${port} (pid ${w.pid}) runs real hardware: only pillar run --sim has the sim hooks`,
        );
    }
    const out = await call(port, ...route);
    if (action === "press" && hold > 0) {
      await new Promise((r) => setTimeout(r, hold));
      await call(port, "POST", "/sim/button/release");
    }
    console.log(JSON.stringify(out, null, 2));
    return 0;
  },
};
