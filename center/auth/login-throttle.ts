/**
 * Slows down password guessing: per user name and client address, the first `freeFailures`
 * failed logins cost nothing, each further one doubles the wait before the next attempt
 * (from `baseMs` up to `maxMs`). A successful login clears the record. Kept in memory and
 * bounded: at most `maxEntries` records, the oldest dropped first.
 */
export interface ThrottlePolicy {
  freeFailures: number;
  baseMs: number;
  maxMs: number;
  maxEntries: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  freeFailures: 3,
  baseMs: 1000,
  maxMs: 5 * 60_000,
  maxEntries: 10_000,
};

interface Entry {
  failures: number;
  blockedUntil: number;
}

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  private key(user: string, ip: string): string {
    return `${user.toLowerCase()}\u0000${ip}`;
  }

  /** Milliseconds to wait before this user may try again from this address (0: go ahead). */
  waitMs(user: string, ip: string): number {
    const e = this.entries.get(this.key(user, ip));
    return e ? Math.max(0, e.blockedUntil - this.now()) : 0;
  }

  /** Records a failed attempt; returns the wait it imposes on the next one. */
  failed(user: string, ip: string): number {
    const key = this.key(user, ip);
    const e = this.entries.get(key) ?? { failures: 0, blockedUntil: 0 };
    this.entries.delete(key); // re-inserted last: the Map's order is the eviction order
    e.failures++;
    const over = e.failures - this.policy.freeFailures;
    const wait = over > 0 ? Math.min(this.policy.baseMs * 2 ** (over - 1), this.policy.maxMs) : 0;
    e.blockedUntil = this.now() + wait;
    this.entries.set(key, e);
    while (this.entries.size > this.policy.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return wait;
  }

  succeeded(user: string, ip: string): void {
    this.entries.delete(this.key(user, ip));
  }
}
