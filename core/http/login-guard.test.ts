import { describe, expect, it } from 'vitest';
import { Clock } from '../clock.js';
import { LoginGuard } from './login-guard.js';

// The clock runs on real time too: allow the milliseconds the test itself takes.
const about = (ms: number) => expect.toSatisfy((v: number) => v <= ms && v > ms - 1000, `about ${ms} ms`);

describe('LoginGuard', () => {
  it('locks a username only for the address that failed it, longer after each further failure', async () => {
    const clock = new Clock();
    const guard = new LoginGuard(clock);
    for (let i = 0; i < 5; i++) guard.failed('Admin', '203.0.113.9');
    expect(guard.waitMs('admin', '203.0.113.9')).toEqual(about(60_000));
    // The admin at their own desk is not locked out by a stranger.
    expect(guard.waitMs('admin', '192.168.1.20')).toBe(0);
    await clock.advance(60_000);
    guard.failed('admin', '203.0.113.9');
    expect(guard.waitMs('admin', '203.0.113.9')).toEqual(about(120_000));
    guard.succeeded('admin', '203.0.113.9');
    expect(guard.waitMs('admin', '203.0.113.9')).toBe(0);
  });

  it('stops an address that sprays many usernames, for the rest of its 15 minutes', async () => {
    const clock = new Clock();
    const guard = new LoginGuard(clock);
    for (let i = 0; i < 100; i++) guard.failed(`user${i}`, '203.0.113.9');
    expect(guard.waitMs('someone-else', '203.0.113.9')).toEqual(about(15 * 60_000));
    expect(guard.waitMs('someone-else', '192.168.1.20')).toBe(0);
    await clock.advance(15 * 60_000);
    expect(guard.waitMs('someone-else', '203.0.113.9')).toBe(0);
  });

  it('forgets typos spread far apart', async () => {
    const clock = new Clock();
    const guard = new LoginGuard(clock);
    for (let i = 0; i < 8; i++) {
      guard.failed('anna', '192.168.1.30');
      await clock.advance(16 * 60_000);
    }
    expect(guard.waitMs('anna', '192.168.1.30')).toBe(0);
  });
});
