import type { TestApp, TestChargePoint } from '../kit/index.js';

/** Helpers for tests of OCPP 2.0.1 charging stations: real ocpp-rpc clients asking for ocpp2.0.1, strict mode. */

export function station(t: TestApp, id: string, opts: { strict?: boolean } = {}): Promise<TestChargePoint> {
  return t.chargePoint(id, { protocol: 'ocpp2.0.1', strict: opts.strict ?? true });
}

export async function boot201(cp: TestChargePoint, reason = 'PowerUp'): Promise<{ status: string; interval: number; currentTime: string }> {
  return cp.call('BootNotification', {
    reason,
    chargingStation: { vendorName: 'Vendor201', model: 'Model201', serialNumber: `SN-${cp.id}`, firmwareVersion: '2.0.1-fw', modem: { iccid: '8949', imsi: '262' } },
  }) as Promise<{ status: string; interval: number; currentTime: string }>;
}

export interface Reading { at: string; wh?: number; w?: number; context?: string }

/** A 2.0.1 MeterValueType: energy in kWh with multiplier 0 or in Wh, power in W. */
export function meterValue201(r: Reading, kWh = false) {
  const sampledValue: Array<Record<string, unknown>> = [];
  if (r.wh !== undefined) {
    sampledValue.push({
      value: kWh ? r.wh / 1000 : r.wh, measurand: 'Energy.Active.Import.Register', context: r.context ?? 'Sample.Periodic',
      unitOfMeasure: kWh ? { unit: 'kWh' } : { unit: 'Wh', multiplier: 0 },
    });
  }
  if (r.w !== undefined) sampledValue.push({ value: r.w, measurand: 'Power.Active.Import', context: r.context ?? 'Sample.Periodic', unitOfMeasure: { unit: 'W' } });
  return { timestamp: r.at, sampledValue };
}

export interface TxEvent {
  eventType: 'Started' | 'Updated' | 'Ended';
  transactionId: string;
  seqNo: number;
  timestamp: string;
  triggerReason?: string;
  idTag?: string;
  idTokenType?: string;
  evseId?: number;
  readings?: Reading[];
  offline?: boolean;
  chargingState?: string;
  stoppedReason?: string;
}

export function txEvent(e: TxEvent) {
  return {
    eventType: e.eventType, timestamp: e.timestamp, seqNo: e.seqNo,
    triggerReason: e.triggerReason ?? (e.eventType === 'Started' ? 'Authorized' : e.eventType === 'Ended' ? 'EVDeparted' : 'MeterValuePeriodic'),
    transactionInfo: {
      transactionId: e.transactionId,
      ...(e.chargingState ? { chargingState: e.chargingState } : {}),
      ...(e.stoppedReason ? { stoppedReason: e.stoppedReason } : {}),
    },
    ...(e.evseId !== undefined ? { evse: { id: e.evseId, connectorId: 1 } } : {}),
    ...(e.idTag !== undefined ? { idToken: { idToken: e.idTag, type: e.idTokenType ?? 'ISO14443' } } : {}),
    ...(e.readings?.length ? { meterValue: e.readings.map((r) => meterValue201(r)) } : {}),
    ...(e.offline ? { offline: true } : {}),
  };
}

export type TxAnswer = { idTokenInfo?: { status: string; cacheExpiryDateTime?: string; groupIdToken?: { idToken: string } } };

export const sendTx = (cp: TestChargePoint, e: TxEvent) => cp.call('TransactionEvent', txEvent(e)) as Promise<TxAnswer>;
