import { describe, expect, it } from 'vitest';
import { createUser, eventually, openEvents, type TestApp, useApp } from '../kit/index.js';

let t: TestApp;
const apps = useApp();

const SECRET = 'Sup3rSecretKeyForCP1';

async function staff(t: TestApp) {
  await createUser(t, 'tech', 'technician', 'tech-pass-123');
  await createUser(t, 'ian', 'installer', 'installer-pass-1');
  await createUser(t, 'vera', 'viewer', 'viewer-pass-1');
  return {
    tech: await t.login('tech', 'tech-pass-123'),
    ian: await t.login('ian', 'installer-pass-1'),
    vera: await t.login('vera', 'viewer-pass-1'),
  };
}

describe('least privilege, and no secret shown', () => {
  it('keeps firmware, local lists, charging profiles, DataTransfer and security keys for installers', async () => {
    t = await apps.start({ config: { plugins: { users: {} } } });
    const { tech, ian } = await staff(t);
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const sent: string[] = [];
    for (const action of ['ChangeConfiguration', 'UpdateFirmware', 'DataTransfer', 'Reset']) {
      cp.handle(action, ({ method }) => { sent.push(method); return action === 'DataTransfer' ? { status: 'Accepted' } : action === 'UpdateFirmware' ? {} : { status: 'Accepted' }; });
    }
    const send = (token: string, action: string, body: unknown) => t.api('POST', `/chargers/CP1/commands/${action}`, { body, token });
    const firmware = { location: 'http://127.0.0.1/fw.bin', retrieveDate: new Date().toISOString() };

    const refused = await send(tech, 'UpdateFirmware', firmware);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/UpdateFirmware is for installers/);
    expect((await send(tech, 'DataTransfer', { vendorId: 'X' })).status).toBe(403);
    expect((await send(tech, 'SendLocalList', { listVersion: 1, updateType: 'Full' })).status).toBe(403);
    expect((await send(tech, 'SetChargingProfile', { connectorId: 1, csChargingProfiles: { chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute', chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 6 }] } } })).status).toBe(403);
    const key = await send(tech, 'ChangeConfiguration', { key: 'AuthorizationKey', value: SECRET });
    expect(key.status).toBe(403);
    expect(key.body.message).toMatch(/AuthorizationKey is for installers/);
    expect(sent).toEqual([]);

    // What a technician is for still works.
    expect((await send(tech, 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '300' })).status).toBe(200);
    expect((await send(tech, 'Reset', { type: 'Soft' })).status).toBe(200);
    expect((await send(ian, 'UpdateFirmware', firmware)).status).toBe(200);
    expect((await send(ian, 'ChangeConfiguration', { key: 'AuthorizationKey', value: SECRET })).status).toBe(200);
    expect(sent).toEqual(['ChangeConfiguration', 'Reset', 'UpdateFirmware', 'ChangeConfiguration']);

    const doc = await t.api('GET', '/openapi.json', { token: null });
    expect(doc.body.paths['/api/chargers/{id}/commands/{action}'].post['x-restricted']).toMatchObject({
      roles: ['admin', 'installer'], actions: expect.arrayContaining(['UpdateFirmware', 'SendLocalList', 'SetChargingProfile', 'DataTransfer']),
    });
  });

  it('redacts the AuthorizationKey and one-time upload links before the audit log and the event stream', async () => {
    t = await apps.start({ config: { plugins: { users: {}, diagnostics: { uploadBaseUrl: 'http://127.0.0.1:8080' } } } });
    const { ian, vera } = await staff(t);
    const stream = await openEvents(t.port, `token=${vera}`);
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    cp.handle('ChangeConfiguration', () => ({ status: 'Accepted' }));
    let location = '';
    cp.handle('GetDiagnostics', ({ params }) => { location = params.location; return { fileName: 'diag.log' }; });
    expect((await t.api('POST', '/chargers/CP1/commands/ChangeConfiguration', { body: { key: 'AuthorizationKey', value: SECRET }, token: ian })).status).toBe(200);
    expect((await t.api('POST', '/diagnostics/chargers/CP1/collect', { body: {}, token: ian })).status).toBe(200);
    const token = location.split('/').pop()!;
    expect(token.length).toBeGreaterThanOrEqual(16);
    await eventually(() => stream.events.filter((e) => e === 'command.sent').length >= 2);
    stream.close();

    const audit = JSON.stringify((await t.api('GET', '/audit?action=command.', { token: vera })).body);
    expect(audit).toContain('AuthorizationKey');
    expect(audit).not.toContain(SECRET);
    expect(audit).toContain('GetDiagnostics');
    expect(audit).not.toContain(token);
    const onBus = JSON.stringify(t.seen('command.sent'));
    expect(onBus).not.toContain(SECRET);
    expect(onBus).not.toContain(token);
  });

  it('shows viewers channel names, types and health, and nobody a webhook\'s secret path', async () => {
    const hookSecret = 'AbCdEfGhIjKlMnOpQrStUvWx';
    t = await apps.start({
      config: { plugins: { users: {}, alerts: { channels: [{ name: 'ops-phone', type: 'webhook', url: `http://127.0.0.1:9/hooks/${hookSecret}` }] } } },
    });
    const { vera, ian } = await staff(t);
    const seen = await t.api('GET', '/alerts/channels', { token: vera });
    expect(seen.status).toBe(200);
    expect(seen.body[0]).toMatchObject({ name: 'ops-phone', type: 'webhook', target: null });
    expect(JSON.stringify(seen.body)).not.toContain('127.0.0.1');
    const installer = await t.api('GET', '/alerts/channels', { token: ian });
    expect(installer.body[0].target).toMatch(/127\.0\.0\.1:9\/hooks\/redacted/);
    expect(JSON.stringify(installer.body)).not.toContain(hookSecret);
  });
});
