import type { EventMap } from '../../events.js';
import { chargerTime, type ChargerSession, type Handler } from '../context.js';

async function log(ctx: Parameters<Handler<unknown, unknown>>[0], cp: ChargerSession, action: string, payload: unknown, ts?: string): Promise<string> {
  const received = ctx.clock.iso();
  const chargerId = cp.id;
  // Unapproved chargers write no history: anything on the LAN can connect as one.
  if (cp.approved) await ctx.writer.write(async (trx) => {
    await trx('charger_messages').insert({
      charger_id: chargerId, action, payload: JSON.stringify(payload), charger_time: ts ? chargerTime(ts, received) : null, received_at: received,
    });
  });
  return received;
}

type UploadStatus = EventMap['diagnostics.status']['status'];

/** 2.0.1 (and 1.6 security whitepaper) log upload statuses in the words of 1.6 DiagnosticsStatusNotification. */
const UPLOAD_STATUS: Record<string, UploadStatus> = {
  Idle: 'Idle', Uploading: 'Uploading', Uploaded: 'Uploaded', AcceptedCanceled: 'Cancelled',
  UploadFailure: 'UploadFailed', BadMessage: 'UploadFailed', NotSupportedOperation: 'UploadFailed', PermissionDenied: 'UploadFailed',
};

// The schemas make requestId an integer when present.
const requestIdOf = (p: { requestId?: number }) => (typeof p.requestId === 'number' ? p.requestId : null);

/** 1.6 and 2.0.1 (the same payload, plus an optional requestId in 2.0.1). */
export const firmwareStatusNotification: Handler<{ status: string; requestId?: number }, Record<string, never>> = async (ctx, cp, p) => {
  const at = await log(ctx, cp, 'FirmwareStatusNotification', p);
  ctx.bus.emit('firmware.status', { chargerId: cp.id, at, status: p.status, requestId: requestIdOf(p) });
  return {};
};

export const diagnosticsStatusNotification: Handler<{ status: UploadStatus }, Record<string, never>> = async (ctx, cp, p) => {
  const at = await log(ctx, cp, 'DiagnosticsStatusNotification', p);
  ctx.bus.emit('diagnostics.status', { chargerId: cp.id, at, status: p.status, reported: p.status, requestId: null });
  return {};
};

export const dataTransfer: Handler<{ vendorId: string; messageId?: string; data?: string }, { status: string }> = async (ctx, cp, p) => {
  const at = await log(ctx, cp, 'DataTransfer', p);
  ctx.bus.emit('datatransfer.received', { chargerId: cp.id, at, vendorId: p.vendorId, messageId: p.messageId ?? null, data: p.data ?? null });
  return { status: 'UnknownVendorId' };
};

/** OCPP 1.6 security whitepaper: stored for the record. */
export const securityEventNotification: Handler<{ type: string; timestamp: string; techInfo?: string }, Record<string, never>> = async (ctx, cp, p) => {
  const at = await log(ctx, cp, 'SecurityEventNotification', p, p.timestamp);
  ctx.bus.emit('charger.securityEvent', { chargerId: cp.id, at, type: p.type, techInfo: p.techInfo ?? null, chargerTime: p.timestamp });
  return {};
};

/** 2.0.1 and the 1.6 security whitepaper: a GetLog upload's progress, reported like a 1.6 diagnostics upload. */
export const logStatusNotification: Handler<{ status: string; requestId?: number }, Record<string, never>> = async (ctx, cp, p) => {
  const at = await log(ctx, cp, 'LogStatusNotification', p);
  ctx.bus.emit('diagnostics.status', { chargerId: cp.id, at, status: UPLOAD_STATUS[p.status] ?? 'UploadFailed', reported: p.status, requestId: requestIdOf(p) });
  return {};
};

export const signedFirmwareStatusNotification: Handler<{ status: string; requestId?: number }, Record<string, never>> = async (ctx, cp, p) => {
  const at = await log(ctx, cp, 'SignedFirmwareStatusNotification', p);
  ctx.bus.emit('firmware.status', { chargerId: cp.id, at, status: p.status, requestId: requestIdOf(p) });
  return {};
};
