import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { definePlugin } from '../../core/plugin.js';
import { type TestApp, useApp } from '../kit/index.js';

let t: TestApp | undefined;
const apps = useApp();

const holdConnector = definePlugin({
  manifest: { name: 'hold', version: '1.0.0', summary: 'holds connector 2 for tag OWNER', config: Type.Object({}) },
  register(ctx) {
    ctx.decide('restrict', (req) => (req.connectorId === 2 && req.idTag !== 'OWNER' ? { status: 'Invalid' } : undefined));
  },
});

describe('authorization decisions', () => {
  it('lets a restrict decision narrow an accepted tag, but never a StopTransaction', async () => {
    t = await apps.start({ extraPlugins: { hold: { plugin: holdConnector, dir: 'tests' } }, config: { plugins: { hold: {} } } });
    const cp = await t.chargePoint('R1');
    await cp.boot();
    const other = await cp.call('StartTransaction', { connectorId: 2, idTag: 'STRANGER', meterStart: 0, timestamp: new Date().toISOString() }) as { transactionId: number; idTagInfo: { status: string } };
    expect(other.idTagInfo.status).toBe('Invalid');
    const owner = await cp.call('StartTransaction', { connectorId: 2, idTag: 'OWNER', meterStart: 0, timestamp: new Date(Date.now() + 1000).toISOString() }) as { idTagInfo: { status: string } };
    expect(owner.idTagInfo.status).toBe('Accepted');
    expect(await cp.call('Authorize', { idTag: 'STRANGER' })).toEqual({ idTagInfo: { status: 'Accepted' } }); // no connector: not held
    const stop = await cp.call('StopTransaction', { transactionId: other.transactionId, meterStop: 0, timestamp: new Date().toISOString(), idTag: 'STRANGER' });
    expect(stop).toEqual({ idTagInfo: { status: 'Accepted' } });
    expect(await t.app.ocpp.authorize({ chargerId: 'R1', connectorId: 2, idTag: 'X', context: 'RemoteStart' })).toEqual({ status: 'Invalid', userId: null });
  });

  it('refuses every tag when no plugin decides and freeVend is off', async () => {
    t = await apps.start({ config: { ocpp: { freeVend: false } } });
    const cp = await t.chargePoint('F1');
    await cp.boot();
    expect(await cp.call('Authorize', { idTag: 'ANY' })).toEqual({ idTagInfo: { status: 'Invalid' } });
    expect(t.seen('token.presented')).toEqual([expect.objectContaining({ idTag: 'ANY', known: false, context: 'Authorize' })]);
  });
});
