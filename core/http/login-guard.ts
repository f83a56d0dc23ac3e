import type { Clock } from '../clock.js';

const USER_FREE_FAILURES = 5;
const USER_FIRST_LOCK_MS = 60_000;
const MAX_LOCK_MS = 15 * 60_000;
const ADDRESS_MAX_FAILURES = 100;
const ADDRESS_WINDOW_MS = 15 * 60_000;

interface Tally { failures: number; firstAtMs: number; lastAtMs: number; lockedUntilMs: number }

/**
 * Slows down password guessing at the login route, kept in memory (a
 * restart forgets it, which only gives a guesser a few more tries).
 * A username is locked for the address that failed it, for a minute after
 * five failed logins in a row, twice as long after each further one, up to
 * 15 minutes; a success clears it. Per address, so a stranger cannot lock
 * the admin out of their own desk. One address may fail 100 times in
 * 15 minutes whatever the usernames, so spraying many accounts is slowed
 * down too (behind a reverse proxy every client shares its address).
 */
const userKey = (username: string, address: string) => `${username.toLowerCase()}|${address}`;

export class LoginGuard {
  readonly #users = new Map<string, Tally>();
  readonly #addresses = new Map<string, Tally>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Milliseconds until this username may be tried from this address again; 0 when it may now. */
  waitMs(username: string, address: string): number {
    const now = this.#clock.nowMs();
    const user = this.#users.get(userKey(username, address));
    const from = this.#addresses.get(address);
    const byAddress = from && now - from.firstAtMs < ADDRESS_WINDOW_MS && from.failures >= ADDRESS_MAX_FAILURES ? from.firstAtMs + ADDRESS_WINDOW_MS - now : 0;
    return Math.max(0, (user?.lockedUntilMs ?? 0) - now, byAddress);
  }

  failed(username: string, address: string): void {
    const now = this.#clock.nowMs();
    const key = userKey(username, address);
    let user = this.#users.get(key);
    // Typos spread over weeks are no attack: a quiet quarter of an hour starts the count again.
    if (!user || (user.lockedUntilMs < now && now - user.lastAtMs > MAX_LOCK_MS)) user = { failures: 0, firstAtMs: now, lastAtMs: now, lockedUntilMs: 0 };
    user.failures += 1;
    user.lastAtMs = now;
    const over = user.failures - USER_FREE_FAILURES;
    if (over >= 0) user.lockedUntilMs = now + Math.min(MAX_LOCK_MS, USER_FIRST_LOCK_MS * 2 ** over);
    this.#users.set(key, user);

    let from = this.#addresses.get(address);
    if (!from || now - from.firstAtMs >= ADDRESS_WINDOW_MS) from = { failures: 0, firstAtMs: now, lastAtMs: now, lockedUntilMs: 0 };
    from.failures += 1;
    this.#addresses.set(address, from);
    this.#forgetOld(now);
  }

  succeeded(username: string, address: string): void {
    this.#users.delete(userKey(username, address));
  }

  // Bounded memory: tallies whose lock and window have passed say nothing any more.
  #forgetOld(now: number): void {
    if (this.#users.size + this.#addresses.size < 10_000) return;
    for (const [k, v] of this.#users) if (v.lockedUntilMs < now && now - v.lastAtMs > MAX_LOCK_MS) this.#users.delete(k);
    for (const [k, v] of this.#addresses) if (now - v.firstAtMs >= ADDRESS_WINDOW_MS) this.#addresses.delete(k);
  }
}
