import { bootedCharger, createTag, createUser, type TestApp, type TestChargePoint } from '../../tests/kit/index.js';

/** Test helpers for the reservations plugin's tests. */

export interface IdTagInfo { status: string; parentIdTag?: string }

export const now = () => new Date().toISOString();

/** A driver account with a password and one card; returns its id, token and card. */
export async function driver(t: TestApp, username: string, idTag: string, extra: Record<string, unknown> = {}): Promise<{ id: number; token: string; idTag: string }> {
  const password = `${username}-password`;
  const user = await createUser(t, username, 'driver', password);
  await createTag(t, { idTag, userId: user.id, ...extra });
  return { id: user.id, token: await t.login(username, password), idTag };
}

/** A booted charger whose connectors report Available. */
export async function charger(t: TestApp, id: string, connectors = 1): Promise<TestChargePoint> {
  const cp = await bootedCharger(t, id);
  for (let c = 1; c <= connectors; c++) await status(cp, c, 'Available');
  return cp;
}

export async function status(cp: TestChargePoint, connectorId: number, s: string): Promise<void> {
  await cp.call('StatusNotification', { connectorId, errorCode: 'NoError', status: s, timestamp: now() });
}

export async function authorize(cp: TestChargePoint, idTag: string): Promise<IdTagInfo> {
  return ((await cp.call('Authorize', { idTag })) as { idTagInfo: IdTagInfo }).idTagInfo;
}

export async function startTx(cp: TestChargePoint, idTag: string, connectorId = 1, extra: Record<string, unknown> = {}): Promise<{ transactionId: number; idTagInfo: IdTagInfo }> {
  return cp.call('StartTransaction', { connectorId, idTag, meterStart: 1000, timestamp: now(), ...extra }) as Promise<{ transactionId: number; idTagInfo: IdTagInfo }>;
}

export async function stopTx(cp: TestChargePoint, transactionId: number, meterStop = 2000): Promise<void> {
  await cp.call('StopTransaction', { transactionId, meterStop, timestamp: now(), reason: 'Local' });
}

export async function meter(cp: TestChargePoint, transactionId: number, energyWh: number, powerW: number, connectorId = 1): Promise<void> {
  await cp.call('MeterValues', {
    connectorId, transactionId,
    meterValue: [{ timestamp: now(), sampledValue: [
      { value: String(energyWh), unit: 'Wh', measurand: 'Energy.Active.Import.Register' },
      { value: String(powerW), unit: 'W', measurand: 'Power.Active.Import' },
    ] }],
  });
}

/** A charge point that implements the Reservation profile: it remembers reservations and reports Reserved. */
export function withReservationProfile(cp: TestChargePoint): { reserved: Array<Record<string, unknown>>; cancelled: number[] } {
  const seen = { reserved: [] as Array<Record<string, unknown>>, cancelled: [] as number[] };
  cp.handle('ReserveNow', ({ params }) => {
    seen.reserved.push(params);
    setTimeout(() => void status(cp, params.connectorId, 'Reserved').catch(() => undefined), 5);
    return { status: 'Accepted' };
  });
  cp.handle('CancelReservation', ({ params }) => {
    seen.cancelled.push(params.reservationId);
    const r = seen.reserved.find((x) => x.reservationId === params.reservationId);
    if (r) setTimeout(() => void status(cp, r.connectorId as number, 'Available').catch(() => undefined), 5);
    return { status: r ? 'Accepted' : 'Rejected' };
  });
  return seen;
}
