/** A wait that did not end in time. */
export class DeadlineError extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = "DeadlineError";
  }
}

/**
 * `p`, or a `DeadlineError` after `ms`: every wait on a device or a peer (a serial write, a
 * drain, a close, a process exit, a socket close) goes through this, so no caller can hang on a
 * promise that never settles. The timer is cleared as soon as `p` settles.
 */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Like `withDeadline`, but a missed deadline resolves (with `fallback`) instead of throwing. */
export async function settleWithin<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  try {
    return await withDeadline(p, ms, "wait");
  } catch (err) {
    if (err instanceof DeadlineError) return fallback;
    throw err;
  }
}
