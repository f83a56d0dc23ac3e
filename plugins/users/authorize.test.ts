import { beforeAll, describe, expect, it } from 'vitest';
import { bootedCharger, createTag, createUser, eventually, type TestApp, type TestChargePoint, useApp } from '../../tests/kit/index.js';
import { authorize, startTx, stopTx } from './test-kit.js';

const DAY = 86_400_000;
let t: TestApp;
const apps = useApp();
let a: TestChargePoint;
let b: TestChargePoint;
let alice: { id: number };

beforeAll(async () => {
  t = await apps.start({ config: { plugins: { users: {} } } });
  [a, b] = await Promise.all([bootedCharger(t, 'AUTH-A'), bootedCharger(t, 'AUTH-B')]);
  alice = await createUser(t, 'alice');
});

describe('authorization of RFID cards over real OCPP', () => {
  it('accepts a known card in any case and records its owner on the transaction', async () => {
    const expiresAt = new Date(Date.now() + 30 * DAY).toISOString();
    await createTag(t, { idTag: 'AbC-001', userId: alice.id, expiresAt });
    expect(await authorize(a, 'abc-001')).toEqual({ status: 'Accepted', expiryDate: expiresAt });
    const start = await startTx(a, 'ABC-001');
    expect(start.idTagInfo.status).toBe('Accepted');
    const tx = await t.api('GET', `/transactions/${start.transactionId}`);
    expect(tx.body.userId).toBe(alice.id);
    await stopTx(a, start.transactionId, 'abc-001');
  });

  it('answers Blocked for a blocked card', async () => {
    await createTag(t, { idTag: 'BLK-1', userId: alice.id, status: 'Blocked' });
    expect((await authorize(a, 'BLK-1')).status).toBe('Blocked');
    expect((await startTx(a, 'blk-1')).idTagInfo.status).toBe('Blocked');
  });

  it('answers Expired once the card\'s expiry has passed', async () => {
    await createTag(t, { idTag: 'EXP-1', expiresAt: new Date(Date.now() - DAY).toISOString() });
    expect((await authorize(a, 'EXP-1')).status).toBe('Expired');
    await createTag(t, { idTag: 'EXP-2', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    expect((await authorize(a, 'EXP-2')).status).toBe('Accepted');
    await t.clock.advance(120_000);
    expect((await authorize(a, 'EXP-2')).status).toBe('Expired');
  });

  it('answers Invalid for an unknown card and keeps it for one-click adoption', async () => {
    expect((await authorize(b, 'Stranger7')).status).toBe('Invalid');
    expect((await authorize(b, 'STRANGER7')).status).toBe('Invalid');
    const unknown = await t.api('GET', '/tags/unknown');
    expect(unknown.body).toEqual([expect.objectContaining({ idTag: 'STRANGER7', chargerId: 'AUTH-B', count: 2 })]);

    const adopted = await t.api('POST', '/tags/unknown/stranger7/adopt', { body: { userId: alice.id } });
    expect(adopted.status).toBe(201);
    expect(adopted.body).toMatchObject({ idTag: 'STRANGER7', userId: alice.id, status: 'Accepted' });
    expect((await authorize(b, 'Stranger7')).status).toBe('Accepted');
    expect((await t.api('GET', '/tags/unknown')).body).toEqual([]);
    expect((await t.api('POST', '/tags/unknown/stranger7/adopt', { body: {} })).status).toBe(404);
  });

  it('refuses a card restricted to charger A at charger B as Invalid', async () => {
    await createTag(t, { idTag: 'ONLY-A', userId: alice.id, chargerIds: ['AUTH-A'] });
    expect((await authorize(a, 'ONLY-A')).status).toBe('Accepted');
    expect((await authorize(b, 'ONLY-A')).status).toBe('Invalid');
    const start = await startTx(b, 'ONLY-A');
    expect(start.idTagInfo.status).toBe('Invalid');
    await stopTx(b, start.transactionId);
  });

  it('answers ConcurrentTx while the card charges at another charger, and Accepted again after', async () => {
    await createTag(t, { idTag: 'BUSY-1', userId: alice.id });
    const start = await startTx(a, 'BUSY-1');
    expect(start.idTagInfo.status).toBe('Accepted');
    expect((await authorize(b, 'busy-1')).status).toBe('ConcurrentTx');
    expect((await startTx(b, 'BUSY-1', 2)).idTagInfo.status).toBe('ConcurrentTx');
    // The same card at its own charger may still stop its session.
    expect((await authorize(a, 'BUSY-1')).status).toBe('Accepted');
    expect((await stopTx(a, start.transactionId, 'BUSY-1')).idTagInfo?.status).toBe('Accepted');
    expect((await authorize(b, 'BUSY-1')).status).toBe('Accepted');
  });

  it('blocks the members of a blocked group and expires those of an expired one, naming the parent', async () => {
    await createTag(t, { idTag: 'FLEET', status: 'Accepted' });
    await createTag(t, { idTag: 'FLEET-CAR1', userId: alice.id, parentIdTag: 'fleet' });
    expect(await authorize(a, 'FLEET-CAR1')).toEqual({ status: 'Accepted', parentIdTag: 'FLEET' });
    expect((await t.api('PATCH', '/tags/FLEET', { body: { status: 'Blocked' } })).status).toBe(200);
    expect(await authorize(a, 'FLEET-CAR1')).toEqual({ status: 'Blocked', parentIdTag: 'FLEET' });
    const past = new Date(Date.now() - DAY).toISOString();
    await t.api('PATCH', '/tags/FLEET', { body: { status: 'Accepted', expiresAt: past } });
    expect(await authorize(a, 'fleet-car1')).toEqual({ status: 'Expired', parentIdTag: 'FLEET', expiryDate: past });
  });

  it('ends a session whose card was blocked meanwhile with StopTransaction idTagInfo Blocked', async () => {
    await createTag(t, { idTag: 'MID-1', userId: alice.id });
    const start = await startTx(b, 'MID-1');
    expect(start.idTagInfo.status).toBe('Accepted');
    expect((await t.api('PATCH', '/tags/mid-1', { body: { status: 'Blocked' } })).body.status).toBe('Blocked');
    expect((await authorize(b, 'MID-1')).status).toBe('Blocked');
    expect((await stopTx(b, start.transactionId, 'MID-1')).idTagInfo).toEqual({ status: 'Blocked' });
  });

  it('blocks the cards of a disabled account and of a deleted one', async () => {
    const bob = await createUser(t, 'bob');
    await createTag(t, { idTag: 'BOB-1', userId: bob.id });
    expect((await authorize(a, 'BOB-1')).status).toBe('Accepted');
    await t.api('PATCH', `/users/${bob.id}`, { body: { disabled: true } });
    expect((await authorize(a, 'BOB-1')).status).toBe('Blocked');
    await t.api('PATCH', `/users/${bob.id}`, { body: { disabled: false } });
    expect((await authorize(a, 'BOB-1')).status).toBe('Accepted');
    expect((await t.api('DELETE', `/users/${bob.id}`)).status).toBe(204);
    expect((await authorize(a, 'BOB-1')).status).toBe('Blocked');
    expect((await t.api('GET', '/tags/BOB-1')).body).toMatchObject({ userId: null, status: 'Blocked' });
  });

  it('forgets unknown cards after the retention period', async () => {
    await authorize(a, 'PASSERBY');
    await eventually(async () => (await t.api('GET', '/tags/unknown')).body.some((u: { idTag: string }) => u.idTag === 'PASSERBY'));
    await t.clock.advance(31 * DAY);
    // The cached admin session expired with the jump in time.
    const token = await t.login();
    expect((await t.api('GET', '/tags/unknown', { token })).body.some((u: { idTag: string }) => u.idTag === 'PASSERBY')).toBe(false);
  });
});

describe('concurrentTx: allow', () => {
  it('accepts a card that is already charging elsewhere', async () => {
    const t2 = await apps.start({ config: { plugins: { users: { concurrentTx: 'allow' } } } });
    try {
      const [x, y] = await Promise.all([bootedCharger(t2, 'X'), bootedCharger(t2, 'Y')]);
      await createTag(t2, { idTag: 'TWICE' });
      expect((await startTx(x, 'TWICE')).idTagInfo.status).toBe('Accepted');
      expect((await authorize(y, 'TWICE')).status).toBe('Accepted');
    } finally {
      await t2.stop();
    }
  });
});
