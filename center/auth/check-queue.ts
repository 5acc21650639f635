/**
 * The password checks of the console's logins, bounded: at most `concurrency` run at once (each
 * is a 32 MiB scrypt on libuv's thread pool, which the console's file and DNS work share), at
 * most `maxWaiting` wait for a turn, and one client address has at most `perAddress` checks
 * running or waiting. A flood of logins therefore costs a bounded amount of memory and thread
 * time, and is refused at once beyond that (`QueueFull`): 429 for the one address over its
 * share, 503 when the whole queue is full. A correct login from another address waits behind at
 * most `concurrency + maxWaiting` checks.
 */
export interface CheckQueueLimits {
  concurrency: number;
  maxWaiting: number;
  perAddress: number;
}

export const DEFAULT_CHECK_LIMITS: CheckQueueLimits = { concurrency: 2, maxWaiting: 16, perAddress: 2 };

export class QueueFull extends Error {
  constructor(
    /** 429: this address has its share; 503: the console has no room for any more. */
    readonly status: 429 | 503,
  ) {
    super(
      status === 429
        ? "too many logins from this address at once: try again in a moment"
        : "the console is busy with other logins: try again in a moment",
    );
  }
}

export class CheckQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly limits: CheckQueueLimits = DEFAULT_CHECK_LIMITS) {}

  /** Checks running and waiting now (for tests and health). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Runs `check` in its turn; throws QueueFull at once when there is no room for it. */
  async run<T>(address: string, check: () => Promise<T>): Promise<T> {
    const mine = this.perAddress.get(address) ?? 0;
    if (mine >= this.limits.perAddress) throw new QueueFull(429);
    if (this.running >= this.limits.concurrency && this.waiting.length >= this.limits.maxWaiting)
      throw new QueueFull(503);
    this.perAddress.set(address, mine + 1);
    try {
      if (this.running >= this.limits.concurrency) await new Promise<void>((r) => this.waiting.push(r));
      else this.running++;
      try {
        return await check();
      } finally {
        const next = this.waiting.shift();
        if (next) next();
        else this.running--;
      }
    } finally {
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    }
  }
}
