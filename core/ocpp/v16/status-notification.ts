import type { ChargePointStatus } from '../../events.js';
import { chargerTime, type Handler } from '../context.js';

export interface StatusNotificationReq {
  connectorId: number; errorCode: string; status: ChargePointStatus;
  info?: string; timestamp?: string; vendorId?: string; vendorErrorCode?: string;
}

/** Every notification goes into the history; the connector's current status only moves forward in time. */
export const statusNotification: Handler<StatusNotificationReq, Record<string, never>> = async (ctx, cp, p) => {
  const received = ctx.clock.iso();
  const at = chargerTime(p.timestamp, received);
  const row = {
    charger_id: cp.id, connector_id: p.connectorId, status: p.status, error_code: p.errorCode,
    info: p.info ?? null, vendor_id: p.vendorId ?? null, vendor_error_code: p.vendorErrorCode ?? null,
  };
  await ctx.writer.write(async (trx) => {
    // A pending charger (anything that connected with a new id) keeps its latest status only.
    if (cp.approved) await trx('status_notifications').insert({ ...row, charger_time: at, received_at: received });
    await trx('connectors')
      .insert({ ...row, status_at: at })
      .onConflict(['charger_id', 'connector_id'])
      .merge(['status', 'error_code', 'info', 'vendor_id', 'vendor_error_code', 'status_at'])
      .where('connectors.status_at', '<=', at);
  });
  ctx.bus.emit('connector.status', {
    chargerId: cp.id, at: received, connectorId: p.connectorId, status: p.status, errorCode: p.errorCode,
    info: p.info ?? null, vendorId: p.vendorId ?? null, vendorErrorCode: p.vendorErrorCode ?? null, chargerTime: at,
  });
  return {};
};
