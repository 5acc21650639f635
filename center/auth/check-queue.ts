/**
 * The password checks of the console's logins, bounded and fair: at most `concurrency` run at
 * once (each is a 32 MiB scrypt on libuv's thread pool, which the console's file and DNS work
 * share), at most `maxWaiting` wait for a turn, and one client address has at most `perAddress`
 * checks running or waiting. Waiting checks take turns by address (round robin), so a correct
 * login waits behind at most one check per other address, however many requests each sends;
 * a check marked `first` (an address without recent failures: address-budget.ts) goes before
 * every other waiting one, so an officer's login is not queued behind a flood of wrong ones.
 * Beyond the bounds a login is refused at once (`QueueFull`): 429 for the one address over its
 * share, 503 when the whole queue is full.
 */
export interface CheckQueueLimits {
  concurrency: number;
  maxWaiting: number;
  perAddress: number;
}

export const DEFAULT_CHECK_LIMITS: CheckQueueLimits = { concurrency: 2, maxWaiting: 256, perAddress: 2 };

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
  private waitingCount = 0;
  /** Waiting checks by address, and the addresses in the order they get their next turn. */
  private readonly waiting = new Map<string, (() => void)[]>();
  private readonly turns: string[] = [];
  private readonly firsts: (() => void)[] = [];
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly limits: CheckQueueLimits = DEFAULT_CHECK_LIMITS) {}

  /** Checks running and waiting now (for tests and health). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waitingCount };
  }

  /** Runs `check` in its turn; throws QueueFull at once when there is no room for it. */
  async run<T>(address: string, check: () => Promise<T>, first = false): Promise<T> {
    const mine = this.perAddress.get(address) ?? 0;
    if (mine >= this.limits.perAddress) throw new QueueFull(429);
    if (this.running >= this.limits.concurrency && this.waitingCount >= this.limits.maxWaiting)
      throw new QueueFull(503);
    this.perAddress.set(address, mine + 1);
    try {
      if (this.running >= this.limits.concurrency) await (first ? this.firstTurn() : this.turn(address));
      else this.running++;
      try {
        return await check();
      } finally {
        this.next();
      }
    } finally {
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    }
  }

  private firstTurn(): Promise<void> {
    this.waitingCount++;
    return new Promise<void>((resolve) => this.firsts.push(resolve));
  }

  private turn(address: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const list = this.waiting.get(address);
      if (list) list.push(resolve);
      else {
        this.waiting.set(address, [resolve]);
        this.turns.push(address);
      }
      this.waitingCount++;
    });
  }

  /** A check ended: its slot goes to the next address's oldest waiting check. */
  private next(): void {
    const first = this.firsts.shift();
    if (first) {
      this.waitingCount--;
      first();
      return;
    }
    const address = this.turns.shift();
    if (address === undefined) {
      this.running--;
      return;
    }
    const list = this.waiting.get(address)!;
    const go = list.shift()!;
    if (list.length) this.turns.push(address);
    else this.waiting.delete(address);
    this.waitingCount--;
    go();
  }
}
