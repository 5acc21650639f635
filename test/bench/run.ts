/**
 * `npm run bench`: runs every benchmark and ends with ONE line of JSON, a flat object of named
 * figures (later features add theirs by exporting a runner from test/bench/<name>.bench.ts).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runPressPathBench } from "./press-path.bench.js";

type Runner = () => Promise<Record<string, number>>;

async function optional(file: string, exportName: string): Promise<Runner | undefined> {
  const path = fileURLToPath(new URL(file, import.meta.url));
  if (!existsSync(path)) return undefined;
  const mod = (await import(path)) as Record<string, Runner>;
  return mod[exportName];
}

const figures: Record<string, number> = {};
const runners: [string, Runner | undefined][] = [
  ["press path", () => runPressPathBench(Number(process.env.BENCH_PRESSES ?? 1000))],
  ["fleet", await optional("./fleet.bench.ts", "runFleetBench")],
  ["call", await optional("./call.bench.ts", "runCallBench")],
  ["tls", await optional("./tls.bench.ts", "runTlsBench")],
  ["record", await optional("./record.bench.ts", "runRecordBench")],
  ["soak", await optional("./soak.bench.ts", "runSoakBench")],
  ["center log", await optional("./center-log.bench.ts", "runCenterLogBench")],
  ["console", await optional("./console.bench.ts", "runConsoleBench")],
  ["scale", await optional("./scale.bench.ts", "runScaleBench")],
  ["selftest", await optional("./selftest.bench.ts", "runSelftestBench")],
];
for (const [name, run] of runners) {
  if (!run) continue;
  const t = performance.now();
  console.error(`bench: ${name}…`);
  Object.assign(figures, await run());
  console.error(`bench: ${name} done in ${Math.round(performance.now() - t)} ms`);
}
console.log(JSON.stringify(figures));
process.exit(0);
