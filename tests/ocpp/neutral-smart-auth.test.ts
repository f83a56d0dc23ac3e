import { describe, expect, it } from 'vitest';
import { sendErrorOf } from '../../core/ocpp/send-error.js';
import { useApp } from '../kit/index.js';
import { boot201, sendTx, station } from './v201-kit.js';

const opts = { actor: 'plugin:test' };

describe('neutral smart charging and authorisation commands', () => {
  const apps = useApp();

  it('reads a 1.6 chargingSchedule and a 2.0.1 schedule into one composite schedule', async () => {
    const t = await apps.start();
    const old = await t.chargePoint('CP16');
    await old.boot();
    const got16: unknown[] = [];
    old.handle('GetCompositeSchedule', ({ params }) => {
      got16.push(params);
      return {
        status: 'Accepted', connectorId: 1, scheduleStart: '2026-01-01T10:00:00.000Z',
        chargingSchedule: { duration: 60, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }, { startPeriod: 30, limit: 8, numberPhases: 1 }] },
      };
    });
    const modern = await station(t, 'CS201');
    await boot201(modern);
    const got201: unknown[] = [];
    modern.handle('GetCompositeSchedule', ({ params }) => {
      got201.push(params);
      return {
        status: 'Accepted',
        schedule: { evseId: 1, duration: 60, scheduleStart: '2026-01-01T10:00:00.000Z', chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }, { startPeriod: 30, limit: 8, numberPhases: 1 }] },
      };
    });
    const get = t.app.core.chargers.commands.getCompositeSchedule;
    const expected = {
      accepted: true, status: 'Accepted',
      schedule: { connectorId: 1, start: '2026-01-01T10:00:00.000Z', durationS: 60, unit: 'A', periods: [{ startS: 0, limit: 16 }, { startS: 30, limit: 8, phases: 1 }] },
    };
    expect(await get('CP16', { connectorId: 1, durationS: 60, unit: 'A' }, opts)).toEqual(expected);
    expect(await get('CS201', { connectorId: 1, durationS: 60, unit: 'A' }, opts)).toEqual(expected);
    expect(got16).toEqual([{ connectorId: 1, duration: 60, chargingRateUnit: 'A' }]);
    expect(got201).toEqual([{ evseId: 1, duration: 60, chargingRateUnit: 'A' }]);

    modern.handle('GetCompositeSchedule', () => ({ status: 'Rejected' }));
    expect(await get('CS201', { connectorId: 1, durationS: 60 }, opts)).toEqual({ accepted: false, status: 'Rejected', schedule: null });
  });

  it('clears profiles by id or by purpose in each version\'s words', async () => {
    const t = await apps.start();
    const old = await t.chargePoint('CP16');
    await old.boot();
    const got16: unknown[] = [];
    old.handle('ClearChargingProfile', ({ params }) => { got16.push(params); return { status: 'Accepted' }; });
    const modern = await station(t, 'CS201');
    await boot201(modern);
    const got201: unknown[] = [];
    modern.handle('ClearChargingProfile', ({ params }) => { got201.push(params); return { status: got201.length === 1 ? 'Accepted' : 'Unknown' }; });
    const clear = t.app.core.chargers.commands.clearChargingProfile;
    expect(await clear('CP16', { profileId: 101 }, opts)).toEqual({ accepted: true, status: 'Accepted' });
    expect(await clear('CP16', { connectorId: 0, purpose: 'charger-max', stackLevel: 2 }, opts)).toEqual({ accepted: true, status: 'Accepted' });
    expect(await clear('CS201', { profileId: 101 }, opts)).toEqual({ accepted: true, status: 'Accepted' });
    expect(await clear('CS201', { connectorId: 0, purpose: 'charger-max', stackLevel: 2 }, opts)).toEqual({ accepted: false, status: 'Unknown' });
    expect(got16).toEqual([{ id: 101 }, { connectorId: 0, chargingProfilePurpose: 'ChargePointMaxProfile', stackLevel: 2 }]);
    expect(got201).toEqual([{ chargingProfileId: 101 }, { chargingProfileCriteria: { evseId: 0, chargingProfilePurpose: 'ChargingStationMaxProfile', stackLevel: 2 } }]);
  });

  it('names a 2.0.1 session by the station\'s own transactionId, and refuses a session that is not the station\'s', async () => {
    const t = await apps.start();
    const a = await station(t, 'CS-A');
    await boot201(a);
    const b = await station(t, 'CS-B');
    await boot201(b);
    await sendTx(a, { eventType: 'Started', transactionId: 'A-TX', seqNo: 0, timestamp: new Date().toISOString(), evseId: 1, idTag: 'CARD-A' });
    await sendTx(b, { eventType: 'Started', transactionId: 'B-TX', seqNo: 0, timestamp: new Date().toISOString(), evseId: 1, idTag: 'CARD-B' });
    const ids = await t.app.db('ocpp201_transactions').select('charger_id', 'transaction_id');
    const txOf = (id: string) => ids.find((r: { charger_id: string }) => r.charger_id === id)!.transaction_id as number;
    const got: unknown[] = [];
    a.handle('SetChargingProfile', ({ params }) => { got.push(params); return { status: 'Accepted' }; });
    const profile = (transactionId: number) => ({
      connectorId: 1, profileId: 101, purpose: 'session' as const, stackLevel: 1, transactionId,
      schedule: { unit: 'W' as const, periods: [{ startS: 0, limit: 7400 }] },
    });
    const set = t.app.core.chargers.commands.setChargingProfile;
    expect(await set('CS-A', profile(txOf('CS-A')), opts)).toEqual({ accepted: true, status: 'Accepted' });
    expect(got).toEqual([{
      evseId: 1,
      chargingProfile: {
        id: 101, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative', transactionId: 'A-TX',
        chargingSchedule: [{ id: 101, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 7400 }] }],
      },
    }]);
    // B's session is not A's: nothing is sent.
    const refused = await set('CS-A', profile(txOf('CS-B')), opts).catch((e: unknown) => e);
    expect(sendErrorOf(refused)).toMatchObject({ kind: 'invalid', fields: [{ field: 'transactionId' }] });
    expect(got).toHaveLength(1);
  });

  it('reads the smart charging and local list settings from 1.6 configuration keys and 2.0.1 variables', async () => {
    const t = await apps.start();
    const old = await t.chargePoint('CP16');
    await old.boot();
    old.handle('GetConfiguration', () => ({
      configurationKey: [
        { key: 'ChargingScheduleAllowedChargingRateUnit', readonly: true, value: 'Current, Power' },
        { key: 'ChargeProfileMaxStackLevel', readonly: true, value: '5' },
        { key: 'AuthorizationCacheEnabled', readonly: false, value: 'FALSE' },
        { key: 'LocalAuthListEnabled', readonly: false, value: 'true' },
        { key: 'LocalAuthListMaxLength', readonly: true, value: '500' },
      ],
      unknownKey: ['SendLocalListMaxLength'],
    }));
    const modern = await station(t, 'CS201');
    await boot201(modern);
    const values: Record<string, string> = {
      'SmartChargingCtrlr.RateUnit': 'W', 'SmartChargingCtrlr.ProfileStackLevel': '2',
      'AuthCacheCtrlr.Enabled': 'true', 'LocalAuthListCtrlr.Enabled': 'false', 'LocalAuthListCtrlr.ItemsPerMessage': '50',
    };
    modern.handle('GetVariables', ({ params }) => ({
      getVariableResult: params.getVariableData.map((d: { component: { name: string }; variable: { name: string } }) => {
        const v = values[`${d.component.name}.${d.variable.name}`];
        return v === undefined ? { attributeStatus: 'UnknownComponent', component: d.component, variable: d.variable }
          : { attributeStatus: 'Accepted', attributeValue: v, component: d.component, variable: d.variable };
      }),
    }));
    const c = t.app.core.chargers.commands;
    expect(await c.smartChargingSettings('CP16', {}, opts)).toEqual({ units: ['A', 'W'], maxStackLevel: 5 });
    expect(await c.smartChargingSettings('CS201', {}, opts)).toEqual({ units: ['W'], maxStackLevel: 2 });
    expect(await c.localAuthSettings('CP16', {}, opts)).toEqual({ cacheEnabled: false, listEnabled: true, maxEntries: 500, maxPerRequest: null });
    expect(await c.localAuthSettings('CS201', {}, opts)).toEqual({ cacheEnabled: true, listEnabled: false, maxEntries: null, maxPerRequest: 50 });
  });

  it('reads list versions in both versions: 1.6 -1 is no list, and clears the cache', async () => {
    const t = await apps.start();
    const old = await t.chargePoint('CP16');
    await old.boot();
    old.handle('GetLocalListVersion', () => ({ listVersion: -1 }));
    old.handle('ClearCache', () => ({ status: 'Rejected' }));
    const modern = await station(t, 'CS201');
    await boot201(modern);
    modern.handle('GetLocalListVersion', () => ({ versionNumber: 7 }));
    modern.handle('ClearCache', () => ({ status: 'Accepted' }));
    const c = t.app.core.chargers.commands;
    expect(await c.getLocalListVersion('CP16', {}, opts)).toEqual({ supported: false, version: null });
    expect(await c.getLocalListVersion('CS201', {}, opts)).toEqual({ supported: true, version: 7 });
    expect(await c.clearAuthCache('CP16', {}, opts)).toEqual({ accepted: false, status: 'Rejected' });
    expect(await c.clearAuthCache('CS201', {}, opts)).toEqual({ accepted: true, status: 'Accepted' });
  });
});
