/**
 * `npm run soak -- --minutes N`: a simulated pillar (the production bundle, with the service's
 * Node flags) on a real Mosquitto, pressed, acknowledged, called (a Node officer answers over
 * WebRTC, hangs up), closed and — when the pillar has the `selftest` command — self-tested, in a
 * loop. Every 10 s it prints the pillar's RSS, open file descriptors and child processes; at the
 * end one JSON line with the growth rates measured after warm-up.
 */
import { readdir, readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { startSoak, type SoakSample } from "./soak-rig.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    "warmup-minutes": { type: "string" },
    "sample-s": { type: "string", default: "10" },
  },
});
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error("--minutes must be a positive number");
const warmupMin = Number(values["warmup-minutes"] ?? Math.min(5, minutes / 4));
const sampleS = Number(values["sample-s"]);

const result = await startSoak({
  durationMs: minutes * 60_000,
  warmupMs: warmupMin * 60_000,
  sampleMs: sampleS * 1000,
  onSample: (s: SoakSample) =>
    console.log(
      `${new Date(s.at).toISOString()}  t=${Math.round(s.tS)}s  rss=${s.rssMb.toFixed(1)}MB  heap=${s.heapMb ?? "?"}MB  ext=${s.externalMb ?? "?"}MB  fds=${s.fds}  children=${s.children}  cycles=${s.cycles}  errors=${s.errors}`,
    ),
});
console.log(JSON.stringify(result));
// The rig stops everything it started; say so if anything of ours is still there.
const left = await leftovers(result.pillarPid);
if (left.length) console.error(`left behind: ${left.join(", ")}`);
process.exit(result.presses_lost > 0 || result.errors > result.cycles / 10 ? 1 : 0);

async function leftovers(pid: number): Promise<string[]> {
  const found: string[] = [];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const stat = await readFile(`/proc/${d}/stat`, "utf8").catch(() => "");
    if (stat && Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) found.push(d);
  }
  return found;
}
