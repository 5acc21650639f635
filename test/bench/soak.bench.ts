import { startSoak } from "../soak/soak-rig.js";

/**
 * `soak_rss_growth_mb_per_h`: the soak loop (press, call, close, self-test) for ten minutes
 * (BENCH_SOAK_MINUTES), RSS slope after a warm-up of half the run. The pillar's RSS settles in
 * its first five or six minutes (V8's heap, malloc's arenas and the sim speaker's one-minute
 * sound window filling): a slope taken earlier measures that, not a leak. `npm run soak --
 * --minutes 30` is the long form.
 */
export async function runSoakBench(): Promise<Record<string, number>> {
  const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
  const r = await startSoak({ durationMs: minutes * 60_000, warmupMs: (minutes / 2) * 60_000, sampleMs: 5000 });
  return {
    soak_rss_growth_mb_per_h: r.rss_growth_mb_per_h,
    soak_fds_growth_per_h: r.fds_growth_per_h,
    soak_cycles: r.cycles,
    soak_errors: r.errors,
    soak_presses_lost: r.presses_lost,
  };
}
