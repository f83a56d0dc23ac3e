import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, type TestChargePoint, useApp } from '../../tests/kit/index.js';
import { boot201, sendTx, station } from '../../tests/ocpp/v201-kit.js';
import { obeyingCharger } from './test-kit.js';

const apps = useApp();

interface Profile201 { evseId: number; id: number; purpose: string; stackLevel: number; transactionId?: string; validTo?: number; unit: 'A' | 'W'; limit: number; phases?: number }

/**
 * A 2.0.1 station that obeys Smart Charging: strict (every call it gets is checked against the 2.0.1 schemas),
 * it keeps its profiles, applies its transaction's TxProfile while valid and the TxDefaultProfile otherwise.
 */
async function obeyingStation(t: TestApp, id: string, opts: { compositeLimit?: number } = {}) {
  const cp: TestChargePoint = await station(t, id);
  const profiles: Profile201[] = [];
  const received: Array<Record<string, unknown>> = [];
  let tx: string | null = null;
  let seqNo = 0;
  const settings: Record<string, string> = { 'SmartChargingCtrlr.RateUnit': 'A,W', 'SmartChargingCtrlr.ProfileStackLevel': '3' };
  cp.handle('GetVariables', ({ params }) => ({
    getVariableResult: params.getVariableData.map((d: { component: { name: string }; variable: { name: string } }) => {
      const value = settings[`${d.component.name}.${d.variable.name}`];
      return value === undefined
        ? { attributeStatus: 'UnknownVariable', component: d.component, variable: d.variable }
        : { attributeStatus: 'Accepted', attributeValue: value, component: d.component, variable: d.variable };
    }),
  }));
  cp.handle('SetChargingProfile', ({ params }) => {
    received.push(params);
    const p = params.chargingProfile;
    const s = p.chargingSchedule[0];
    const stored: Profile201 = {
      evseId: params.evseId, id: p.id, purpose: p.chargingProfilePurpose, stackLevel: p.stackLevel, transactionId: p.transactionId,
      validTo: p.validTo ? Date.parse(p.validTo) : undefined, unit: s.chargingRateUnit, limit: s.chargingSchedulePeriod[0].limit,
      phases: s.chargingSchedulePeriod[0].numberPhases,
    };
    const i = profiles.findIndex((q) => q.id === stored.id || (q.evseId === stored.evseId && q.purpose === stored.purpose && q.stackLevel === stored.stackLevel));
    if (i >= 0) profiles.splice(i, 1);
    profiles.push(stored);
    return { status: 'Accepted' };
  });
  function limit(evseId: number, atMs = Date.now()): number {
    const valid = (p: Profile201) => p.validTo === undefined || p.validTo > atMs;
    const amps = (p: Profile201) => (p.unit === 'A' ? p.limit : p.limit / (230 * 3));
    const own = profiles.filter((p) => p.purpose === 'TxProfile' && p.evseId === evseId && valid(p) && p.transactionId === tx).sort((a, b) => b.stackLevel - a.stackLevel)[0];
    if (own) return amps(own);
    const def = profiles.filter((p) => p.purpose === 'TxDefaultProfile' && (p.evseId === 0 || p.evseId === evseId) && valid(p)).sort((a, b) => b.stackLevel - a.stackLevel)[0];
    return def ? amps(def) : Infinity;
  }
  cp.handle('GetCompositeSchedule', ({ params }) => ({
    status: 'Accepted',
    schedule: {
      evseId: params.evseId, duration: params.duration, scheduleStart: new Date().toISOString(), chargingRateUnit: 'A',
      chargingSchedulePeriod: [{ startPeriod: 0, limit: opts.compositeLimit ?? Math.min(limit(params.evseId), 80), numberPhases: 3 }],
    },
  }));
  const status = (connectorStatus: string) => cp.call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus, evseId: 1, connectorId: 1 });
  return {
    cp, profiles, received, limit,
    async boot() { await boot201(cp); await status('Available'); },
    async plug(idTag: string, ref = `${id}-TX-1`) {
      await status('Occupied');
      tx = ref;
      await sendTx(cp, { eventType: 'Started', transactionId: ref, seqNo: seqNo++, timestamp: new Date().toISOString(), evseId: 1, idTag, chargingState: 'Charging' });
    },
    async unplug() {
      await sendTx(cp, { eventType: 'Ended', transactionId: tx!, seqNo: seqNo++, timestamp: new Date().toISOString(), stoppedReason: 'EVDisconnected' });
      tx = null;
      await status('Available');
    },
  };
}

describe('loadbalancing on a site of 1.6 and 2.0.1 chargers', () => {
  it('shares one circuit between a 1.6 charger and a 2.0.1 station, each limited in its own version', async () => {
    const t = await apps.start({ config: { plugins: { loadbalancing: { circuits: [{ id: 'main', maxCurrent: 32, chargers: ['CP16', 'ST201'] }], minUpdateInterval: '10s' } } } });
    const old = await obeyingCharger(t, 'CP16');
    await old.boot();
    const modern = await obeyingStation(t, 'ST201');
    await modern.boot();
    // The failsafe: a TxDefaultProfile for the whole station (EVSE 0), stack level 0, no end.
    await eventually(() => modern.profiles.some((p) => p.purpose === 'TxDefaultProfile' && p.evseId === 0 && p.limit === 6 && p.validTo === undefined));
    expect(modern.received[0]).toEqual({
      evseId: 0,
      chargingProfile: {
        id: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Relative',
        chargingSchedule: [{ id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 6 }] }],
      },
    });

    await modern.plug('DRIVER-B');
    await eventually(() => Math.abs(modern.limit(1) - 32) < 0.05, 5000);
    await old.plug(1, 'DRIVER-A');
    await eventually(() => Math.abs(modern.limit(1) - 16) < 0.05 && Math.abs(old.limit(1) - 16) < 0.05, 5000);
    // The session's profile names the station's own transactionId on its EVSE, valid for a while, in A on three phases.
    const session = modern.received.at(-1)!.chargingProfile as Record<string, unknown>;
    expect(modern.received.at(-1)!.evseId).toBe(1);
    expect(session).toMatchObject({
      id: 101, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Absolute', transactionId: 'ST201-TX-1',
      chargingSchedule: [{ id: 101, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16, numberPhases: 3 }] }],
    });
    expect(Date.parse(session.validTo as string)).toBeGreaterThan(Date.now());

    // The station's session ends: the 1.6 car gets the whole circuit.
    await t.clock.advance(10_000);
    await modern.unplug();
    await eventually(() => Math.abs(old.limit(1) - 32) < 0.05, 5000);
    const view = (await t.api('GET', '/loadbalancing')).body;
    expect(view.chargers).toEqual(expect.arrayContaining([
      expect.objectContaining({ id: 'CP16', smartCharging: 'yes', problem: null }),
      expect.objectContaining({ id: 'ST201', smartCharging: 'yes', rateUnit: 'A', problem: null }),
    ]));
  });

  it('reads a 2.0.1 composite schedule back and flags a station that applies more than it was given', async () => {
    const t = await apps.start({ config: { plugins: { loadbalancing: { circuits: [{ id: 'main', maxCurrent: 32, chargers: ['CP16', 'ST201'] }] } } } });
    const old = await obeyingCharger(t, 'CP16');
    await old.boot();
    const modern = await obeyingStation(t, 'ST201', { compositeLimit: 32 });
    await modern.boot();
    await old.plug(1, 'DRIVER-A');
    await modern.plug('DRIVER-B');
    const view = await eventually(async () => {
      const v = (await t.api('GET', '/loadbalancing')).body;
      return v.chargers.find((c: { id: string }) => c.id === 'ST201')?.smartCharging === 'no' ? v : null;
    });
    expect(view!.chargers.find((c: { id: string }) => c.id === 'ST201').problem).toMatch(/applies 32\.0 A on connector 1 though limited to 16 A \(composite schedule\)/);
    expect(view!.chargers.find((c: { id: string }) => c.id === 'CP16')).toMatchObject({ smartCharging: 'yes', problem: null });
  });
});
