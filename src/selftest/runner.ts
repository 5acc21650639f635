import type { Check, CheckContext, CheckResult } from "./check.js";
import type { SelftestReport } from "./report.js";

/** What a run tells whoever watches it (the CLI through the control endpoint, a test). */
export type RunEvent =
  | { type: "check"; id: string; title: string; index: number; total: number }
  | { type: "result"; result: CheckResult }
  | { type: "prompt"; promptId: number; kind: "confirm" | "action"; text: string; timeoutMs: number }
  | { type: "prompt.closed"; promptId: number; answer: boolean }
  | { type: "info"; text: string }
  | { type: "done"; report: SelftestReport };

/** The checks `only` names (check ids, components, or id prefixes); all when `only` is empty. */
export function selectChecks(all: readonly Check[], only: readonly string[] | undefined): Check[] {
  if (!only?.length) return [...all];
  return all.filter((c) => only.some((o) => c.id === o || c.component === o || c.id.startsWith(`${o}.`)));
}

/**
 * Runs the checks one after another (they share devices) and reports each. A check that throws
 * fails with what it threw; an interactive check is skipped when nobody is there to answer.
 */
export async function runChecks(
  checks: readonly Check[],
  ctx: CheckContext,
  emit: (e: RunEvent) => void,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const [index, c] of checks.entries()) {
    emit({ type: "check", id: c.id, title: c.title, index, total: checks.length });
    const t = performance.now();
    const base = { id: c.id, component: c.component, title: c.title, required: c.required };
    let outcome: Omit<CheckResult, keyof typeof base | "ms">;
    if (ctx.signal.aborted) outcome = { status: "skip", detail: "the self-test was cancelled" };
    else if (c.interactive && !ctx.interactive)
      outcome = {
        status: "skip",
        detail: "needs an installer on site (run pillar selftest without --non-interactive)",
      };
    else {
      try {
        outcome = await c.run(ctx);
      } catch (err) {
        outcome = { status: "fail", detail: `the check itself failed: ${(err as Error).message}` };
      }
    }
    const result = Object.fromEntries(
      Object.entries({ ...base, ...outcome, ms: Math.round(performance.now() - t) }).filter(([, v]) => v !== undefined),
    ) as unknown as CheckResult;
    results.push(result);
    emit({ type: "result", result });
  }
  return results;
}
