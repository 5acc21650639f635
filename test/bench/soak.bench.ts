import { startSoak } from "../soak/soak-rig.js";

/**
 * `soak_rss_growth_mb_per_h`: the soak loop (press, call, close, self-test) for a few minutes
 * (BENCH_SOAK_MINUTES, default 3; the first minute is warm-up), RSS slope after warm-up.
 * `npm run soak -- --minutes 30` is the long form.
 */
export async function runSoakBench(): Promise<Record<string, number>> {
  const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? 3);
  const r = await startSoak({ durationMs: minutes * 60_000, warmupMs: 60_000, sampleMs: 5000 });
  return {
    soak_rss_growth_mb_per_h: r.rss_growth_mb_per_h,
    soak_fds_growth_per_h: r.fds_growth_per_h,
    soak_cycles: r.cycles,
    soak_errors: r.errors,
    soak_presses_lost: r.presses_lost,
  };
}
