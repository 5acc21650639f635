import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { FleetSimulator } from "../../fleet-sim/fleet-simulator.js";
import { simSites } from "../../fleet-sim/sim-sites.js";
import { parseCliArgs } from "../args.js";
import { flagLines } from "../flag-help.js";
import { UsageError } from "../cli-command.js";
import { PROJECT_ROOT, SOFTWARE_VERSION } from "../version.js";

export const SIMULATE_USAGE =
  "pillar fleet simulate --count N --broker URL [--presses-per-min R] [--faults] [--failover URL,URL]\n" +
  "                      [--heartbeat S] [--inventory SITES.csv] [--own-ids] [--data-dir DIR] [--for S]\n" +
  "  N simulated pillars in this one process, for load tests, demos and officer training.\n" +
  "  Real in each pillar (the pillar software itself, as on a street): its own MQTT connection and\n" +
  "  client id (pillar-{id}), retained online/offline status with the last will, health reports,\n" +
  "  events with eventId and seq from its own outbox journal on disk (replayed after a lost\n" +
  "  link), the incident state machine and LEDs, and the commands\n" +
  "  (incident.ack, incident.close, ping…) answered as a pillar answers them.\n" +
  "  Shared by all of them: this process, its event loop and memory (health's memoryMb is the\n" +
  "  whole simulator's), the disk under --data-dir (one folder per pillar; default a temp folder,\n" +
  "  deleted at exit), the clock; the button, tamper switch and LEDs are the sim driver's, not GPIO.\n" +
  flagLines([
    ["--count N", "how many pillars, 1–20000 (required, no default)"],
    ["--broker URL", "the MQTT broker, mqtt:// or mqtts:// (required, no default)"],
    ["--failover URL,URL", "brokers each pillar fails over to (default: none)"],
    ["--presses-per-min R", "presses across the fleet, each on a random running pillar (default: 0)"],
    ["--faults", "every few seconds a pillar loses its link for 3-15 s or restarts (default: off)"],
    ["--heartbeat S", "seconds between each pillar's health reports (default: 30)"],
    ["--inventory SITES.csv", "places (and with --own-ids, ids) (default: config/examples/fleet/sites.csv)"],
    ["--own-ids", "use the inventory's pillar ids (default: sim-0001…)"],
    ["--data-dir DIR", "one folder per pillar under DIR (default: a temp folder, deleted at exit)"],
    ["--for S", "stop after S seconds (default: run until Ctrl-C)"],
  ]);

const options = {
  count: { type: "string" },
  broker: { type: "string" },
  failover: { type: "string" },
  "presses-per-min": { type: "string" },
  faults: { type: "boolean" },
  heartbeat: { type: "string" },
  inventory: { type: "string" },
  "own-ids": { type: "boolean" },
  "data-dir": { type: "string" },
  for: { type: "string" },
} as const;

function positive(v: string | undefined, name: string, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`${name} must be a number ≥ ${min}, not "${v}"`);
  return n;
}

export async function runFleetSimulate(argv: string[]): Promise<number> {
  const { values: v } = parseCliArgs(argv, options, false);
  if (!v.count || !v.broker) throw new UsageError("--count and --broker are required");
  if (!/^mqtts?:\/\//.test(v.broker)) throw new UsageError("--broker must be an mqtt:// or mqtts:// URL");
  const count = Math.floor(positive(v.count, "--count", 1));
  if (count > 20_000) throw new UsageError("--count is at most 20000");
  const inventory = v.inventory ?? join(PROJECT_ROOT, "config/examples/fleet/sites.csv");
  const sites = simSites(await readFile(inventory, "utf8"), inventory, count, v["own-ids"] ?? false);
  const ownDir = v["data-dir"] === undefined;
  const dataDir = v["data-dir"] ?? (await mkdtemp(join(tmpdir(), "fleet-sim-")));
  const log = pino({ level: process.env.PILLAR_LOG_LEVEL ?? "warn" });
  const sim = new FleetSimulator({
    sites,
    brokerUrl: v.broker,
    failoverUrls: v.failover ? v.failover.split(",").map((u) => u.trim()) : [],
    dataDir,
    pressesPerMin: positive(v["presses-per-min"], "--presses-per-min", 0, 0),
    faults: v.faults ?? false,
    heartbeatS: positive(v.heartbeat, "--heartbeat", 30),
    version: SOFTWARE_VERSION,
    log,
  });
  let stopping: Promise<void> | undefined;
  const stop = (why: string) => {
    stopping ??= (async () => {
      console.log(
        JSON.stringify({ msg: "fleet simulator stopping", why, presses: sim.presses.length, ...sim.faultsMade }),
      );
      await sim.stop();
      // what was pressed where, for whoever checks the center's view (the tests do)
      console.log(
        JSON.stringify({
          msg: "fleet simulator stopped",
          presses: sim.presses.length,
          pressesByPillar: sim.pressCounts(),
        }),
      );
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };
  process.on("SIGINT", () => void stop("SIGINT").then(() => process.exit(0)));
  process.on("SIGTERM", () => void stop("SIGTERM").then(() => process.exit(0)));
  await sim.start();
  console.log(JSON.stringify({ msg: "fleet simulator running", pillars: sim.count, dataDir, broker: v.broker }));
  const report = setInterval(() => {
    const m = process.memoryUsage();
    console.log(
      JSON.stringify({
        msg: "fleet simulator",
        pillars: sim.count,
        presses: sim.presses.length,
        ...sim.faultsMade,
        rssMb: Math.round(m.rss / 1048576),
      }),
    );
  }, 10_000);
  if (v.for !== undefined) {
    const s = positive(v.for, "--for", 1);
    setTimeout(() => {
      clearInterval(report);
      void stop(`--for ${s}`).then(() => process.exit(0));
    }, s * 1000);
  }
  return -1;
}
