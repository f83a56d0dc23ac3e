import type { Handler } from '../context.js';

export interface ReservationStatusUpdateReq { reservationId: number; reservationUpdateStatus: 'Expired' | 'Removed' }

/**
 * OCPP 2.0.1 ReservationStatusUpdate as reservation.status: the charger dropped a reservation it held (its time
 * was up, or it removed it). The reservations belong to a plugin, so the core cannot tell whose the id is: the
 * event names the charger, and a listener ends only a reservation it made at that very charger.
 */
export const reservationStatusUpdate: Handler<ReservationStatusUpdateReq, Record<string, never>> = async (ctx, cp, p) => {
  // The schema says integer only; an id beyond any the appliance hands out cannot be one of its reservations.
  if (!Number.isSafeInteger(p.reservationId) || p.reservationId < 0) return {};
  ctx.bus.emit('reservation.status', {
    chargerId: cp.id, at: ctx.clock.iso(), reservationId: p.reservationId,
    status: p.reservationUpdateStatus === 'Expired' ? 'expired' : 'removed',
  });
  return {};
};
