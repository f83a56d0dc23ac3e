// Records the tests set up through the real HTTP API and chargers booted over a real OCPP WebSocket.
import { expect } from 'vitest';
import type { TestApp, TestChargePoint } from './app.js';

/** Creates an account through POST /api/users (without a password unless given) and returns it. */
export async function createUser(t: TestApp, username: string, role = 'driver', password?: string): Promise<{ id: number; username: string }> {
  const res = await t.api('POST', '/users', { body: { username, role, name: username, ...(password ? { password } : {}) } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Creates an RFID card through POST /api/tags and returns it. */
export async function createTag(t: TestApp, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await t.api('POST', '/tags', { body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** A charge point that has sent its BootNotification and been accepted; it answers no other calls unless told. */
export async function bootedCharger(t: TestApp, id: string): Promise<TestChargePoint> {
  const cp = await t.chargePoint(id);
  expect((await cp.boot()).status).toBe('Accepted');
  return cp;
}
