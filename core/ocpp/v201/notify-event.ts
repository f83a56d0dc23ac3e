import type { ChargePointStatus } from '../../events.js';
import { chargerTime, type Handler } from '../context.js';
import { reportConnector } from './status-notification.js';

export interface EventData {
  eventId: number; timestamp: string; trigger: 'Alerting' | 'Delta' | 'Periodic'; actualValue: string;
  techCode?: string; techInfo?: string; cleared?: boolean;
  component: { name: string; instance?: string; evse?: { id: number; connectorId?: number } };
  variable: { name: string; instance?: string };
}

const AVAILABILITY: Record<string, ChargePointStatus> = {
  Available: 'Available', Reserved: 'Reserved', Unavailable: 'Unavailable', Faulted: 'Faulted', Occupied: 'Preparing',
};

/**
 * The connector status an event reports, if it is one: AvailabilityState of a Connector or EVSE, or its
 * Problem variable set to true (a fault). Periodic reports repeat what is known and are left out.
 */
function statusOf(e: EventData): ChargePointStatus | null {
  if (e.trigger === 'Periodic' || !e.component.evse || !['Connector', 'EVSE'].includes(e.component.name)) return null;
  if (e.variable.name === 'AvailabilityState') return AVAILABILITY[e.actualValue] ?? null;
  if (e.variable.name === 'Problem' && e.actualValue.toLowerCase() === 'true' && !e.cleared) return 'Faulted';
  return null;
}

/**
 * Every NotifyEvent is stored (an approved charger's); the ones that say a
 * connector changed availability or has a problem become connector.status, a
 * fault with errorCode OtherError and the charger's techCode as its vendor
 * error code, as the diagnostics connector-fault check reads a 1.6 fault.
 */
export const notifyEvent: Handler<{ generatedAt: string; seqNo: number; tbc?: boolean; eventData: EventData[] }, Record<string, never>> = async (ctx, cp, p) => {
  const received = ctx.clock.iso();
  if (cp.approved) {
    await ctx.writer.write(async (trx) => {
      await trx('charger_messages').insert({
        charger_id: cp.id, action: 'NotifyEvent', payload: JSON.stringify(p), charger_time: chargerTime(p.generatedAt, received), received_at: received,
      });
    });
  }
  for (const e of p.eventData) {
    const status = statusOf(e);
    if (!status) continue;
    const faulted = status === 'Faulted';
    await reportConnector(ctx, cp, {
      evseId: e.component.evse!.id, evseConnectorId: e.component.evse!.connectorId ?? null, status,
      errorCode: faulted ? 'OtherError' : 'NoError', info: faulted ? e.techInfo ?? null : null,
      vendorErrorCode: faulted ? e.techCode ?? null : null, at: chargerTime(e.timestamp, received),
    });
  }
  return {};
};
