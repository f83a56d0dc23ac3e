import type { TestApp, TestChargePoint } from '../../tests/kit/index.js';

/** A charging profile as a simulated charger stored it. */
export interface StoredProfile {
  connectorId: number;
  id: number;
  purpose: string;
  stackLevel: number;
  transactionId?: number;
  validTo?: number;
  unit: 'A' | 'W';
  limit: number;
}

export interface SimOptions {
  /** What GetConfiguration says for ChargingScheduleAllowedChargingRateUnit. */
  rateUnit?: string;
  /** false: no Smart Charging (SetChargingProfile answers NotImplemented). */
  smart?: boolean;
  /** true: accepts profiles and draws what the car wants anyway. */
  ignoresLimits?: boolean;
  /** GetCompositeSchedule answers this limit (A) whatever it was sent; unset = the limit it applies. */
  compositeLimit?: number;
}

/**
 * A charger that obeys OCPP 1.6 Smart Charging as a real one does: it keeps
 * the profiles it is sent, applies the session's TxProfile while it is
 * valid and the TxDefaultProfile otherwise, and its cars draw
 * min(limit, what the car wants), reported per phase in MeterValues.
 */
export async function obeyingCharger(t: TestApp, id: string, opts: SimOptions = {}) {
  const cp: TestChargePoint = await t.chargePoint(id);
  const profiles: StoredProfile[] = [];
  /** Every profile it was sent, in order (a charger's flash counts each write). */
  const received: StoredProfile[] = [];
  const cars = new Map<number, { tx: number; wish: number; phases: 1 | 3; wh: number }>();
  cp.handle('GetConfiguration', () => ({
    configurationKey: [
      { key: 'ChargingScheduleAllowedChargingRateUnit', readonly: true, value: opts.rateUnit ?? 'Current' },
      { key: 'ChargeProfileMaxStackLevel', readonly: true, value: '3' },
    ],
    unknownKey: [],
  }));
  if (opts.smart !== false) {
    cp.handle('SetChargingProfile', ({ params }) => {
      const p = params.csChargingProfiles;
      const stored: StoredProfile = {
        connectorId: params.connectorId, id: p.chargingProfileId, purpose: p.chargingProfilePurpose, stackLevel: p.stackLevel,
        transactionId: p.transactionId, validTo: p.validTo ? Date.parse(p.validTo) : undefined,
        unit: p.chargingSchedule.chargingRateUnit, limit: p.chargingSchedule.chargingSchedulePeriod[0].limit,
      };
      // The same id, or the same purpose and stack level on the connector, replaces the earlier profile (OCPP 1.6 §3.13.2).
      const i = profiles.findIndex((q) => q.id === stored.id || (q.connectorId === stored.connectorId && q.purpose === stored.purpose && q.stackLevel === stored.stackLevel));
      if (i >= 0) profiles.splice(i, 1);
      profiles.push(stored);
      received.push(stored);
      return { status: 'Accepted' };
    });
  }
  cp.handle('GetCompositeSchedule', ({ params }) => ({
    status: 'Accepted', connectorId: params.connectorId, scheduleStart: new Date().toISOString(),
    chargingSchedule: {
      duration: params.duration, chargingRateUnit: 'A',
      chargingSchedulePeriod: [{ startPeriod: 0, limit: opts.compositeLimit ?? Math.min(limit(params.connectorId), 80) }],
    },
  }));
  const toAmps = (p: StoredProfile, phases: number) => (p.unit === 'A' ? p.limit : p.limit / (230 * phases));

  /** The limit in A per phase a connector applies at `atMs` (Infinity without any profile). */
  function limit(connectorId: number, atMs = Date.now()): number {
    const car = cars.get(connectorId);
    const phases = car?.phases ?? 3;
    const valid = (p: StoredProfile) => p.validTo === undefined || p.validTo > atMs;
    const tx = profiles.filter((p) => p.purpose === 'TxProfile' && p.connectorId === connectorId && valid(p) && (p.transactionId === undefined || p.transactionId === car?.tx))
      .sort((a, b) => b.stackLevel - a.stackLevel)[0];
    if (tx) return toAmps(tx, phases);
    const def = profiles.filter((p) => p.purpose === 'TxDefaultProfile' && (p.connectorId === 0 || p.connectorId === connectorId) && valid(p))
      .sort((a, b) => b.stackLevel - a.stackLevel)[0];
    return def ? toAmps(def, phases) : Infinity;
  }

  const draw = (connectorId: number) => {
    const car = cars.get(connectorId);
    if (!car) return 0;
    return opts.ignoresLimits ? car.wish : Math.min(car.wish, limit(connectorId));
  };

  return {
    cp, profiles, received, limit, draw,
    /** Boots and reports its connectors (1..connectors) Available. */
    async boot(connectors = 1) {
      await cp.boot();
      for (let c = 1; c <= connectors; c++) await cp.call('StatusNotification', { connectorId: c, errorCode: 'NoError', status: 'Available' });
    },
    /** A car arrives and its driver's card starts a session. */
    async plug(connectorId: number, idTag: string, wish = 32, phases: 1 | 3 = 3): Promise<number> {
      await cp.call('StatusNotification', { connectorId, errorCode: 'NoError', status: 'Preparing' });
      const r = await cp.call('StartTransaction', { connectorId, idTag, meterStart: 0, timestamp: new Date().toISOString() }) as { transactionId: number };
      cars.set(connectorId, { tx: r.transactionId, wish, phases, wh: 0 });
      await cp.call('StatusNotification', { connectorId, errorCode: 'NoError', status: 'Charging' });
      return r.transactionId;
    },
    /** The car now wants this much (a full battery wants less). */
    want(connectorId: number, wish: number) { cars.get(connectorId)!.wish = wish; },
    /** One MeterValues with the current the car draws now, per phase. */
    async report(connectorId: number): Promise<number> {
      const car = cars.get(connectorId)!;
      const a = draw(connectorId);
      car.wh += Math.round(a * 230 * car.phases / 60);
      const phase = (p: string, v: number) => ({ value: v.toFixed(1), measurand: 'Current.Import', phase: p, unit: 'A' });
      await cp.call('MeterValues', {
        connectorId, transactionId: car.tx,
        meterValue: [{
          timestamp: new Date().toISOString(),
          sampledValue: [
            { value: String(car.wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
            { value: String(Math.round(a * 230 * car.phases)), measurand: 'Power.Active.Import', unit: 'W' },
            phase('L1', a), phase('L2', car.phases === 3 ? a : 0), phase('L3', car.phases === 3 ? a : 0),
          ],
        }],
      });
      return a;
    },
    async unplug(connectorId: number) {
      const car = cars.get(connectorId)!;
      cars.delete(connectorId);
      await cp.call('StopTransaction', { transactionId: car.tx, meterStop: car.wh, timestamp: new Date().toISOString(), reason: 'EVDisconnected' });
      await cp.call('StatusNotification', { connectorId, errorCode: 'NoError', status: 'Available' });
    },
  };
}

export type ObeyingCharger = Awaited<ReturnType<typeof obeyingCharger>>;
