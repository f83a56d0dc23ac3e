import type { Handler } from '../context.js';

export interface BootNotificationReq {
  chargePointVendor: string; chargePointModel: string; chargePointSerialNumber?: string; chargeBoxSerialNumber?: string;
  firmwareVersion?: string; iccid?: string; imsi?: string; meterType?: string; meterSerialNumber?: string;
}

/** Stores the boot info; Accepted for approved chargers, Pending until an operator approves the others. */
export const bootNotification: Handler<BootNotificationReq, { status: string; currentTime: string; interval: number }> = async (ctx, cp, p) => {
  const at = ctx.clock.iso();
  const status = cp.approved ? 'Accepted' : 'Pending';
  const serialNumber = p.chargePointSerialNumber ?? p.chargeBoxSerialNumber ?? null;
  await ctx.writer.write(async (trx) => {
    await trx('chargers').where({ id: cp.id }).update({
      vendor: p.chargePointVendor, model: p.chargePointModel, serial_number: serialNumber,
      firmware_version: p.firmwareVersion ?? null, iccid: p.iccid ?? null, imsi: p.imsi ?? null,
      meter_type: p.meterType ?? null, meter_serial_number: p.meterSerialNumber ?? null,
      boot_status: status, last_boot_at: at, last_seen_at: at,
    });
    // A pending charger retries every minute; its latest boot is on its charger row, not in the history.
    if (cp.approved) await trx('boot_notifications').insert({ charger_id: cp.id, payload: JSON.stringify(p), status, received_at: at });
  });
  ctx.bus.emit('charger.booted', {
    chargerId: cp.id, at, vendor: p.chargePointVendor, model: p.chargePointModel, serialNumber,
    firmwareVersion: p.firmwareVersion ?? null, status, truncatedFields: cp.truncatedFields,
  });
  const heartbeatS = Math.round(ctx.config.heartbeatInterval / 1000);
  // A pending charger retries its boot at this interval, so keep it short enough for a quick approval.
  return { status, currentTime: at, interval: cp.approved ? heartbeatS : Math.min(heartbeatS, 60) };
};
