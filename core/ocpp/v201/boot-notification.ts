import type { Handler } from '../context.js';

export interface BootNotificationReq {
  reason: string;
  chargingStation: {
    vendorName: string; model: string; serialNumber?: string; firmwareVersion?: string;
    modem?: { iccid?: string; imsi?: string };
  };
}

/**
 * The same charger fields and charger.booted as an OCPP 1.6 boot: Accepted
 * for approved chargers, Pending until an operator approves the others.
 */
export const bootNotification: Handler<BootNotificationReq, { status: string; currentTime: string; interval: number }> = async (ctx, cp, p) => {
  const at = ctx.clock.iso();
  const status = cp.approved ? 'Accepted' : 'Pending';
  const cs = p.chargingStation;
  await ctx.writer.write(async (trx) => {
    await trx('chargers').where({ id: cp.id }).update({
      vendor: cs.vendorName, model: cs.model, serial_number: cs.serialNumber ?? null,
      firmware_version: cs.firmwareVersion ?? null, iccid: cs.modem?.iccid ?? null, imsi: cs.modem?.imsi ?? null,
      boot_status: status, last_boot_at: at, last_seen_at: at,
    });
    // A pending charger retries every minute; its latest boot is on its charger row, not in the history.
    if (cp.approved) await trx('boot_notifications').insert({ charger_id: cp.id, payload: JSON.stringify(p), status, received_at: at });
  });
  ctx.bus.emit('charger.booted', {
    chargerId: cp.id, at, vendor: cs.vendorName, model: cs.model, serialNumber: cs.serialNumber ?? null,
    firmwareVersion: cs.firmwareVersion ?? null, status, truncatedFields: [],
  });
  const heartbeatS = Math.round(ctx.config.heartbeatInterval / 1000);
  // While Pending, interval is when the charger boots again: short, so an approval takes effect quickly.
  return { status, currentTime: at, interval: cp.approved ? heartbeatS : Math.min(heartbeatS, 60) };
};
