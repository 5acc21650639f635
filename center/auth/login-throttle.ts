/**
 * Slows down password guessing: per user name and client address, the first `freeFailures`
 * failed logins cost nothing, each further one doubles the wait before the next attempt
 * (from `baseMs` up to `maxMs`). A successful login clears the record. Kept in memory and
 * bounded: at most `maxEntries` records, the oldest dropped first.
 *
 * Concurrency cannot bypass it: `reserve` counts the attempt as failed *before* the password is
 * checked (a success clears it), and only one check per user and address runs at a time — a
 * second attempt while one is being checked is refused like a due wait.
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

/** An attempt allowed to check its password: `succeeded()` clears the record, `done()` always. */
export interface Reservation {
  /** The wait the attempt imposes when the password was wrong (already recorded). */
  waitIfWrong: number;
  succeeded(): void;
  /** The password was not checked after all (no room to check it): the attempt is not counted. */
  cancel(): void;
  /** Lets the next attempt of this user and address in. */
  done(): void;
}

/** Until a check of this user and address ends: refused, with this wait (the check takes < 1 s). */
const IN_CHECK_WAIT_MS = 1000;

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly checking = new Set<string>();

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

  /**
   * An attempt of `user` from `ip`: either a reservation (the failure already counted, released
   * by `done()`), or the milliseconds to wait (a wait is due, or another check of this user and
   * address is running).
   */
  reserve(user: string, ip: string): Reservation | { waitMs: number } {
    const key = this.key(user, ip);
    if (this.checking.has(key)) return { waitMs: IN_CHECK_WAIT_MS };
    const wait = this.waitMs(user, ip);
    if (wait > 0) return { waitMs: wait };
    this.checking.add(key);
    const before = this.entries.get(key);
    const restore = before ? { ...before } : undefined;
    const waitIfWrong = this.failed(user, ip);
    let open = true;
    return {
      waitIfWrong,
      succeeded: () => this.succeeded(user, ip),
      cancel: () => {
        if (restore) this.entries.set(key, restore);
        else this.entries.delete(key);
      },
      done: () => {
        if (open) this.checking.delete(key);
        open = false;
      },
    };
  }
}
