import { describe, expect, it } from 'vitest';
import { Bus } from './bus.js';
import { createLogger } from './log.js';

const quiet = () => createLogger('error', 'test', () => undefined);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const status = (chargerId: string, connectorId: number) => ({
  chargerId, at: '', connectorId, status: 'Available' as const, errorCode: 'NoError', info: null, vendorId: null, vendorErrorCode: null, chargerTime: '',
});

describe('event bus', () => {
  it('delivers one charger\'s events to a handler in the order they were emitted', async () => {
    const bus = new Bus(quiet());
    const seen: number[] = [];
    bus.on('connector.status', async (e) => {
      await sleep(e.connectorId === 1 ? 30 : 1); // the first is slowest
      seen.push(e.connectorId);
    });
    for (const id of [1, 2, 3]) bus.emit('connector.status', status('CP1', id));
    await bus.idle();
    expect(seen).toEqual([1, 2, 3]);
  });

  it('keeps one charger\'s order across event names for the same plugin', async () => {
    const bus = new Bus(quiet());
    const seen: string[] = [];
    bus.on('connector.status', async () => { await sleep(30); seen.push('status'); }, 'alerts');
    bus.on('charger.heartbeat', () => { seen.push('heartbeat'); }, 'alerts');
    bus.on('charger.heartbeat', () => { seen.push('other plugin heartbeat'); }, 'other');
    bus.emit('connector.status', status('CP1', 1));
    bus.emit('charger.heartbeat', { chargerId: 'CP1', at: '' });
    await bus.idle();
    expect(seen).toEqual(['other plugin heartbeat', 'status', 'heartbeat']);
  });

  it('does not make one charger wait for another', async () => {
    const bus = new Bus(quiet());
    const seen: string[] = [];
    bus.on('connector.status', async (e) => {
      await sleep(e.chargerId === 'SLOW' ? 40 : 1);
      seen.push(e.chargerId);
    });
    bus.emit('connector.status', status('SLOW', 1));
    bus.emit('connector.status', status('FAST', 1));
    await bus.idle();
    expect(seen).toEqual(['FAST', 'SLOW']);
  });

  it('isolates a throwing handler and reports it as plugin.failed naming owner and event', async () => {
    const bus = new Bus(quiet());
    const failures: Array<{ plugin: string; hook: string }> = [];
    let otherRan = false;
    bus.on('charger.heartbeat', () => { throw new Error('boom'); }, 'broken');
    bus.on('charger.heartbeat', () => { otherRan = true; }, 'healthy');
    bus.on('plugin.failed', (e) => { failures.push({ plugin: e.plugin, hook: e.hook }); });
    bus.emit('charger.heartbeat', { chargerId: 'CP1', at: '' });
    await bus.idle();
    expect(otherRan).toBe(true);
    expect(failures).toEqual([{ plugin: 'broken', hook: 'charger.heartbeat' }]);
  });

  it('takes the first decision that answers and skips handlers that throw or pass', async () => {
    const bus = new Bus(quiet());
    bus.decide('authorize', () => { throw new Error('db down'); }, 'flaky');
    bus.decide('authorize', () => undefined, 'abstains');
    bus.decide('authorize', async () => ({ status: 'Blocked' }), 'users');
    bus.decide('authorize', () => ({ status: 'Accepted' }), 'late');
    const answer = await bus.ask('authorize', { chargerId: 'CP1', connectorId: 1, idTag: 'X', context: 'Authorize' });
    expect(answer).toEqual({ status: 'Blocked' });
  });

  it('stops delivering after unsubscribe', async () => {
    const bus = new Bus(quiet());
    let count = 0;
    const off = bus.on('charger.heartbeat', () => { count += 1; });
    bus.emit('charger.heartbeat', { chargerId: 'CP1', at: '' });
    off();
    bus.emit('charger.heartbeat', { chargerId: 'CP1', at: '' });
    await bus.idle();
    expect(count).toBe(1);
  });
});
