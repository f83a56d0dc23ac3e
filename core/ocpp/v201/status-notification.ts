import type { ChargePointStatus } from '../../events.js';
import { chargerTime, type Handler, type OcppContext } from '../context.js';

export interface StatusNotificationReq {
  timestamp: string; connectorStatus: 'Available' | 'Occupied' | 'Reserved' | 'Unavailable' | 'Faulted';
  evseId: number; connectorId: number;
}

/**
 * A 2.0.1 connector status as the neutral one. "Occupied" (a cable is in)
 * is Charging while a session runs on the EVSE, else Preparing; TransactionEvent
 * chargingState refines it during a session. 2.0.1 has no error code: a Faulted
 * connector says OtherError, the details come with NotifyEvent.
 */
export function neutralStatus(status: StatusNotificationReq['connectorStatus'], sessionOpen: boolean): ChargePointStatus {
  if (status === 'Occupied') return sessionOpen ? 'Charging' : 'Preparing';
  return status;
}

export interface ConnectorReport {
  evseId: number; evseConnectorId: number | null; status: ChargePointStatus; errorCode: string;
  info: string | null; vendorErrorCode: string | null; at: string;
}

/** Stores a connector status like an OCPP 1.6 StatusNotification (neutral connector id = EVSE id) and emits connector.status. */
export async function reportConnector(ctx: OcppContext, cp: { id: string; approved: boolean }, r: ConnectorReport): Promise<void> {
  const received = ctx.clock.iso();
  const row = {
    charger_id: cp.id, connector_id: r.evseId, status: r.status, error_code: r.errorCode,
    info: r.info, vendor_id: null, vendor_error_code: r.vendorErrorCode,
  };
  await ctx.writer.write(async (trx) => {
    // A pending charger (anything that connected with a new id) keeps its latest status only.
    if (cp.approved) await trx('status_notifications').insert({ ...row, charger_time: r.at, received_at: received });
    await trx('connectors')
      .insert({ ...row, evse_connector_id: r.evseConnectorId, status_at: r.at })
      .onConflict(['charger_id', 'connector_id'])
      .merge(['status', 'error_code', 'info', 'vendor_id', 'vendor_error_code', 'status_at', ...(r.evseConnectorId !== null ? ['evse_connector_id'] : [])])
      .where('connectors.status_at', '<=', r.at);
  });
  ctx.bus.emit('connector.status', {
    chargerId: cp.id, at: received, connectorId: r.evseId, status: r.status, errorCode: r.errorCode,
    info: r.info, vendorId: null, vendorErrorCode: r.vendorErrorCode, chargerTime: r.at,
  });
}

export const statusNotification: Handler<StatusNotificationReq, Record<string, never>> = async (ctx, cp, p) => {
  const at = chargerTime(p.timestamp, ctx.clock.iso());
  const open = ctx.openTransactions.has(`${cp.id}:${p.evseId}`);
  await reportConnector(ctx, cp, {
    evseId: p.evseId, evseConnectorId: p.connectorId, status: neutralStatus(p.connectorStatus, open),
    errorCode: p.connectorStatus === 'Faulted' ? 'OtherError' : 'NoError', info: null, vendorErrorCode: null, at,
  });
  return {};
};
