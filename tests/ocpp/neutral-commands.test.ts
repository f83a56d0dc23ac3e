import { describe, expect, it } from 'vitest';
import { sendErrorOf } from '../../core/ocpp/send-error.js';
import { useApp } from '../kit/index.js';
import { boot201, station } from './v201-kit.js';

describe('neutral commands: one call, each charger in its own version', () => {
  const apps = useApp();

  it('sends a reset as 1.6 Soft/Hard or 2.0.1 OnIdle/Immediate and reads both answers the same way', async () => {
    const t = await apps.start();
    const old = await t.chargePoint('CP16');
    await old.boot();
    const got16: unknown[] = [];
    old.handle('Reset', ({ params }) => { got16.push(params); return { status: 'Accepted' }; });
    const modern = await station(t, 'CS201');
    await boot201(modern);
    const got201: unknown[] = [];
    modern.handle('Reset', ({ params }) => { got201.push(params); return { status: got201.length === 1 ? 'Scheduled' : 'Rejected' }; });

    const reset = t.app.core.chargers.commands.reset;
    expect(await reset('CP16', {}, { actor: 'plugin:test' })).toEqual({ accepted: true, status: 'Accepted' });
    expect(await reset('CP16', { hard: true }, { actor: 'plugin:test' })).toEqual({ accepted: true, status: 'Accepted' });
    expect(got16).toEqual([{ type: 'Soft' }, { type: 'Hard' }]);

    expect(await reset('CS201', {}, { actor: 'plugin:test' })).toEqual({ accepted: true, status: 'Scheduled' });
    expect(await reset('CS201', { hard: true, evseId: 1 }, { actor: 'plugin:test' })).toEqual({ accepted: false, status: 'Rejected' });
    expect(got201).toEqual([{ type: 'OnIdle' }, { type: 'Immediate', evseId: 1 }]);
  });

  it('rejects like send() does: offline chargers and bad input say why, and nothing reaches the charger', async () => {
    const t = await apps.start();
    const modern = await station(t, 'CS201');
    await boot201(modern);
    let calls = 0;
    modern.handle('Reset', () => { calls++; return { status: 'Accepted' }; });
    // An EVSE id that is not a whole number is refused by the schema before it is sent.
    const bad = await t.app.core.chargers.commands.reset('CS201', { evseId: 1.5 }, { actor: 'plugin:test' }).catch((e: unknown) => e);
    expect(sendErrorOf(bad)?.kind).toBe('invalid');
    await modern.close();
    const offline = await t.app.core.chargers.commands.reset('CS201', {}, { actor: 'plugin:test' }).catch((e: unknown) => e);
    expect(sendErrorOf(offline)?.kind).toBe('offline');
    expect(calls).toBe(0);
  });
});
