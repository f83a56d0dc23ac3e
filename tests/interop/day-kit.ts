import type { OCPP20 } from 'typed-ocpp';
import type { Station } from './station.js';

/** What a station of the other implementation sends during a day, typed by typed-ocpp's 2.0.1 types. */

export const boot = (st: Station, reason: OCPP20.BootNotificationRequest['reason'] = 'PowerUp', firmwareVersion = '1.0.0') =>
  st.call<OCPP20.BootNotificationResponse>('BootNotification', {
    reason, chargingStation: { vendorName: 'Interop', model: 'IOP-22', serialNumber: `SN-${st.id}`, firmwareVersion },
  } satisfies OCPP20.BootNotificationRequest);

export const status = (st: Station, evseId: number, connectorStatus: OCPP20.StatusNotificationRequest['connectorStatus'], timestamp: string) =>
  st.call<OCPP20.StatusNotificationResponse>('StatusNotification', { timestamp, connectorStatus, evseId, connectorId: 1 } satisfies OCPP20.StatusNotificationRequest);

export const authorize = async (st: Station, idToken: string): Promise<string> =>
  (await st.call<OCPP20.AuthorizeResponse>('Authorize', { idToken: { idToken, type: 'ISO14443' } } satisfies OCPP20.AuthorizeRequest)).idTokenInfo.status;

/** One register reading in kWh (as many stations send it), with the context 2.0.1 gives begin, periodic and end samples. */
export function energy(timestamp: string, wh: number, context: 'Transaction.Begin' | 'Sample.Periodic' | 'Transaction.End'): OCPP20.MeterValueType {
  return { timestamp, sampledValue: [{ value: wh / 1000, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'kWh', multiplier: 0 } }] };
}

export interface Event {
  eventType: OCPP20.TransactionEventRequest['eventType'];
  transactionId: string;
  seqNo: number;
  timestamp: string;
  evseId?: number;
  idToken?: string;
  wh?: number;
  offline?: boolean;
  reservationId?: number;
  stoppedReason?: NonNullable<OCPP20.TransactionEventRequest['transactionInfo']['stoppedReason']>;
}

/** A TransactionEvent as a station sends it: the trigger, the charging state and the reading follow from the event type. */
export function transactionEvent(e: Event): OCPP20.TransactionEventRequest {
  const ctx = e.eventType === 'Started' ? 'Transaction.Begin' : e.eventType === 'Ended' ? 'Transaction.End' : 'Sample.Periodic';
  return {
    eventType: e.eventType, timestamp: e.timestamp, seqNo: e.seqNo,
    triggerReason: e.eventType === 'Started' ? 'Authorized' : e.eventType === 'Ended' ? 'EVCommunicationLost' : 'MeterValuePeriodic',
    transactionInfo: {
      transactionId: e.transactionId,
      chargingState: e.eventType === 'Ended' ? 'Idle' : 'Charging',
      ...(e.stoppedReason ? { stoppedReason: e.stoppedReason } : {}),
    },
    ...(e.evseId !== undefined ? { evse: { id: e.evseId, connectorId: 1 } } : {}),
    ...(e.idToken !== undefined ? { idToken: { idToken: e.idToken, type: 'ISO14443' } } : {}),
    ...(e.wh !== undefined ? { meterValue: [energy(e.timestamp, e.wh, ctx)] } : {}),
    ...(e.offline ? { offline: true } : {}),
    ...(e.reservationId !== undefined ? { reservationId: e.reservationId } : {}),
  };
}

export const tx = (st: Station, e: Event) => st.call<OCPP20.TransactionEventResponse>('TransactionEvent', transactionEvent(e));
