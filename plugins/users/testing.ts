import { expect } from 'vitest';
import { type TestApp, type TestChargePoint } from '../../tests/kit/index.js';

/** Test helpers shared by the users plugin's tests. */

export interface IdTagInfo { status: string; expiryDate?: string; parentIdTag?: string }

/** Creates an account through the API and returns it. */
export async function createUser(t: TestApp, username: string, role = 'driver', password?: string): Promise<{ id: number; username: string }> {
  const res = await t.api('POST', '/users', { body: { username, role, name: username, ...(password ? { password } : {}) } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export async function createTag(t: TestApp, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await t.api('POST', '/tags', { body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** A booted charge point that answers no Local Auth List calls (as most cheap chargers do). */
export async function bootedCharger(t: TestApp, id: string): Promise<TestChargePoint> {
  const cp = await t.chargePoint(id);
  expect((await cp.boot()).status).toBe('Accepted');
  return cp;
}

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
