/**
 * The wrong passwords one client address may have checked, whoever's name it tries: a bucket of
 * `burst` checks refilled one per `refillMs`. A check takes one; a successful login gives it
 * back, so only failures cost. An address that guesses across many names (or floods the console
 * with logins) is refused with 429 before its password is checked, and the password checks left
 * over are the other addresses' (an officer's correct login is not queued behind a flood). Kept
 * in memory, at most `maxEntries` addresses (the oldest dropped first).
 */
export interface AddressBudgetPolicy {
  burst: number;
  refillMs: number;
  maxEntries: number;
}

export const DEFAULT_ADDRESS_BUDGET: AddressBudgetPolicy = { burst: 10, refillMs: 30_000, maxEntries: 10_000 };

interface Bucket {
  tokens: number;
  at: number;
}

export class AddressBudget {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly policy: AddressBudgetPolicy = DEFAULT_ADDRESS_BUDGET,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one check for `address`: 0 when taken, else the milliseconds until one is free. */
  take(address: string): number {
    const b = this.refilled(address);
    if (b.tokens < 1) return Math.ceil((1 - b.tokens) * this.policy.refillMs);
    b.tokens -= 1;
    return 0;
  }

  /** True when the address has had no wrong password lately (its budget is full). */
  clean(address: string): boolean {
    return this.refilled(address).tokens >= this.policy.burst;
  }

  /** Gives a check back (the login succeeded, or the password was not checked). */
  refund(address: string): void {
    const b = this.refilled(address);
    b.tokens = Math.min(this.policy.burst, b.tokens + 1);
  }

  private refilled(address: string): Bucket {
    const t = this.now();
    const b = this.buckets.get(address) ?? { tokens: this.policy.burst, at: t };
    b.tokens = Math.min(this.policy.burst, b.tokens + (t - b.at) / this.policy.refillMs);
    b.at = t;
    this.buckets.delete(address); // re-inserted last: the Map's order is the eviction order
    this.buckets.set(address, b);
    while (this.buckets.size > this.policy.maxEntries) this.buckets.delete(this.buckets.keys().next().value!);
    return b;
  }
}
