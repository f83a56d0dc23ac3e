import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../kit/index.js';

let t: TestApp;
const apps = useApp();

const DAY = 86_400_000;

describe('remote start checks the card on every path', () => {
  it('refuses a raw RemoteStartTransaction for an unknown, blocked or expired card before the charger hears of it', async () => {
    t = await apps.start({ config: { plugins: { users: {} } } });
    const cp = await t.chargePoint('RS1');
    await cp.boot();
    const asked: unknown[] = [];
    cp.handle('RemoteStartTransaction', ({ params }) => { asked.push(params); return { status: 'Accepted' }; });
    const tag = async (body: Record<string, unknown>) => expect((await t.api('POST', '/tags', { body })).status).toBe(201);
    await tag({ idTag: 'GOOD-1' });
    await tag({ idTag: 'BLOCKED-1', status: 'Blocked' });
    await tag({ idTag: 'OLD-1', expiresAt: new Date(Date.now() - DAY).toISOString() });

    for (const [idTag, status] of [['STRANGER-9', 'Invalid'], ['BLOCKED-1', 'Blocked'], ['OLD-1', 'Expired']] as const) {
      const res = await t.api('POST', '/chargers/RS1/commands/RemoteStartTransaction', { body: { connectorId: 1, idTag } });
      expect(res.status, idTag).toBe(409);
      expect(res.body.message).toBe(`card ${idTag} is not accepted at RS1 (${status}); RemoteStartTransaction was not sent`);
    }
    expect(asked).toEqual([]);
    const audit = await t.api('GET', '/audit?action=command.RemoteStartTransaction');
    expect(audit.body[0]).toMatchObject({ actor: 'admin', target: 'RS1', detail: { error: expect.stringMatching(/OLD-1/) } });

    // A card the site accepts still goes through, and a bad payload is still named field by field.
    const ok = await t.api('POST', '/chargers/RS1/commands/RemoteStartTransaction', { body: { connectorId: 1, idTag: 'GOOD-1' } });
    expect(ok.status).toBe(200);
    expect(asked).toEqual([{ connectorId: 1, idTag: 'GOOD-1' }]);
    const bad = await t.api('POST', '/chargers/RS1/commands/RemoteStartTransaction', { body: { connectorId: 1 } });
    expect(bad.status).toBe(400);
  });

  it('refuses every card when no plugin decides and free vend is off', async () => {
    t = await apps.start({ config: { ocpp: { freeVend: false } } });
    const cp = await t.chargePoint('RS2');
    await cp.boot();
    let asked = 0;
    cp.handle('RemoteStartTransaction', () => { asked++; return { status: 'Accepted' }; });
    const res = await t.api('POST', '/chargers/RS2/commands/RemoteStartTransaction', { body: { idTag: 'ANY-1' } });
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/^card ANY-1 is not accepted at RS2 \(Invalid\)/);
    expect(asked).toBe(0);
  });
});
