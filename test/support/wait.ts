/** Resolve after `ms` (a pause between actions; never a way to wait for a result: use waitFor). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Poll `check` until it returns a truthy value (which is returned) or `timeoutMs` runs out
 * (then throw, naming `what`). The deadline is a failure guard, never an assertion: keep it
 * generous, the machine is shared.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 15_000,
  everyMs = 20,
): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
