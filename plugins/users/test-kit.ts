import type { TestChargePoint } from '../../tests/kit/index.js';

/** Test helpers shared by the users plugin's tests; accounts, cards and booted chargers come from the kit. */

export interface IdTagInfo { status: string; expiryDate?: string; parentIdTag?: string }

/** The fields a 400 names in its errors, in order. */
export const fields = (res: { body: { errors?: Array<{ field: string }> } }) => (res.body.errors ?? []).map((e) => e.field);

export async function authorize(cp: TestChargePoint, idTag: string): Promise<IdTagInfo> {
  return ((await cp.call('Authorize', { idTag })) as { idTagInfo: IdTagInfo }).idTagInfo;
}

export async function startTx(cp: TestChargePoint, idTag: string, connectorId = 1): Promise<{ transactionId: number; idTagInfo: IdTagInfo }> {
  return cp.call('StartTransaction', { connectorId, idTag, meterStart: 0, timestamp: new Date().toISOString() }) as Promise<{ transactionId: number; idTagInfo: IdTagInfo }>;
}

export async function stopTx(cp: TestChargePoint, transactionId: number, idTag?: string): Promise<{ idTagInfo?: IdTagInfo }> {
  return cp.call('StopTransaction', {
    transactionId, meterStop: 1000, timestamp: new Date().toISOString(), reason: 'Local', ...(idTag ? { idTag } : {}),
  }) as Promise<{ idTagInfo?: IdTagInfo }>;
}
