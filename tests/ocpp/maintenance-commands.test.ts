import { describe, expect, it } from 'vitest';
import { sendErrorOf } from '../../core/ocpp/send-error.js';
import { type TestApp, type TestChargePoint, useApp } from '../kit/index.js';
import { boot201, station } from './v201-kit.js';

const actor = { actor: 'plugin:test' };

/** Records what each action brings, and answers with the reply given for it. */
function recorder(cp: TestChargePoint, replies: Record<string, unknown>): Array<[string, unknown]> {
  const got: Array<[string, unknown]> = [];
  for (const [action, reply] of Object.entries(replies)) cp.handle(action, ({ params }) => { got.push([action, params]); return reply; });
  return got;
}

async function pair(t: TestApp, replies16: Record<string, unknown>, replies201: Record<string, unknown>) {
  const old = await t.chargePoint('CP16');
  await old.boot();
  const modern = await station(t, 'CS201');
  await boot201(modern);
  return { got16: recorder(old, replies16), got201: recorder(modern, replies201) };
}

describe('firmware, log, vendor data and trigger commands in each version', () => {
  const apps = useApp();

  it('sends a firmware update as 1.6 UpdateFirmware or 2.0.1 UpdateFirmware with a new requestId, and reads a refusal', async () => {
    const t = await apps.start();
    const { got16, got201 } = await pair(t, { UpdateFirmware: {} }, { UpdateFirmware: { status: 'InvalidCertificate' } });
    const { updateFirmware } = t.app.core.chargers.commands;
    const input = { location: 'https://files.example.org/fw.bin', retrieveAt: '2030-01-01T00:00:00.000Z', retries: 2 };
    expect(await updateFirmware('CP16', input, actor)).toEqual({ accepted: true, status: 'Accepted', requestId: null });
    const answer = await updateFirmware('CS201', { ...input, signature: 'c2lnbg==', signingCertificate: 'PEM' }, actor);
    expect(answer).toEqual({ accepted: false, status: 'InvalidCertificate', requestId: expect.any(Number) });
    expect(got16).toEqual([['UpdateFirmware', { location: input.location, retrieveDate: input.retrieveAt, retries: 2 }]]);
    expect(got201).toEqual([['UpdateFirmware', {
      requestId: answer.requestId, retries: 2,
      firmware: { location: input.location, retrieveDateTime: input.retrieveAt, signature: 'c2lnbg==', signingCertificate: 'PEM' },
    }]]);
    const again = await updateFirmware('CS201', input, actor);
    expect(again.requestId).toBeGreaterThan(answer.requestId!);
  });

  it('asks for logs by 1.6 GetDiagnostics (or GetLog for the security log) and 2.0.1 GetLog, and reads the file name of each', async () => {
    const t = await apps.start();
    const { got16, got201 } = await pair(t, { GetDiagnostics: {}, GetLog: { status: 'Accepted', filename: 'sec.log' } }, { GetLog: { status: 'Accepted', filename: 'd.log' } });
    const { getLog } = t.app.core.chargers.commands;
    const at = { from: '2030-01-01T00:00:00.000Z', to: '2030-01-02T00:00:00.000Z' };
    const location = 'http://appliance.local/api/diagnostics/upload/x';
    // A 1.6 charger with nothing to upload answers without a file name.
    expect(await getLog('CP16', { location, kind: 'diagnostics', ...at }, actor)).toEqual({ accepted: true, status: 'Accepted', fileName: null, requestId: null });
    const security = await getLog('CP16', { location, kind: 'security' }, actor);
    expect(security).toMatchObject({ accepted: true, fileName: 'sec.log', requestId: expect.any(Number) });
    const modern = await getLog('CS201', { location, kind: 'diagnostics', ...at, retryInterval: 30 }, actor);
    expect(modern).toEqual({ accepted: true, status: 'Accepted', fileName: 'd.log', requestId: expect.any(Number) });
    expect(got16).toEqual([
      ['GetDiagnostics', { location, startTime: at.from, stopTime: at.to }],
      ['GetLog', { logType: 'SecurityLog', requestId: security.requestId, log: { remoteLocation: location } }],
    ]);
    expect(got201).toEqual([['GetLog', {
      logType: 'DiagnosticsLog', requestId: modern.requestId, retryInterval: 30, log: { remoteLocation: location, oldestTimestamp: at.from, latestTimestamp: at.to },
    }]]);
  });

  it('sends vendor data as a string to 1.6 and as given to 2.0.1, and reads the answer the same way', async () => {
    const t = await apps.start();
    const { got16, got201 } = await pair(t, { DataTransfer: { status: 'Accepted', data: 'ok' } }, { DataTransfer: { status: 'UnknownVendorId' } });
    const { dataTransfer } = t.app.core.chargers.commands;
    const json = { price: 0.35, lines: ['a', 'b'] };
    expect(await dataTransfer('CP16', { vendorId: 'com.example', messageId: 'Price', data: json }, actor)).toEqual({ accepted: true, status: 'Accepted', data: 'ok' });
    await dataTransfer('CP16', { vendorId: 'com.example', data: 'plain text' }, actor);
    expect(await dataTransfer('CS201', { vendorId: 'com.example', messageId: 'Price', data: json }, actor)).toEqual({ accepted: false, status: 'UnknownVendorId', data: null });
    await dataTransfer('CS201', { vendorId: 'com.example', data: 'plain text' }, actor);
    expect(got16).toEqual([
      ['DataTransfer', { vendorId: 'com.example', messageId: 'Price', data: JSON.stringify(json) }],
      ['DataTransfer', { vendorId: 'com.example', data: 'plain text' }],
    ]);
    expect(got201).toEqual([['DataTransfer', { vendorId: 'com.example', messageId: 'Price', data: json }], ['DataTransfer', { vendorId: 'com.example', data: 'plain text' }]]);
  });

  it('triggers messages by their neutral names: the log status is DiagnosticsStatusNotification in 1.6, LogStatusNotification in 2.0.1', async () => {
    const t = await apps.start();
    const { got16, got201 } = await pair(t, { TriggerMessage: { status: 'Accepted' } }, { TriggerMessage: { status: 'NotImplemented' } });
    const { trigger } = t.app.core.chargers.commands;
    expect(await trigger('CP16', { message: 'logStatus' }, actor)).toEqual({ accepted: true, status: 'Accepted' });
    await trigger('CP16', { message: 'status', connectorId: 2 }, actor);
    expect(await trigger('CS201', { message: 'logStatus' }, actor)).toEqual({ accepted: false, status: 'NotImplemented' });
    await trigger('CS201', { message: 'status', connectorId: 2 }, actor);
    expect(got16).toEqual([
      ['TriggerMessage', { requestedMessage: 'DiagnosticsStatusNotification' }], ['TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 2 }],
    ]);
    expect(got201).toEqual([
      ['TriggerMessage', { requestedMessage: 'LogStatusNotification' }], ['TriggerMessage', { requestedMessage: 'StatusNotification', evse: { id: 2 } }],
    ]);
    expect(await trigger.wire('CS201', { message: 'firmwareStatus' })).toEqual({ action: 'TriggerMessage', request: { requestedMessage: 'FirmwareStatusNotification' } });
  });

  it('refuses what the schema refuses before sending: a location longer than OCPP allows names the field', async () => {
    const t = await apps.start();
    const { got201 } = await pair(t, {}, { UpdateFirmware: { status: 'Accepted' } });
    const err = await t.app.core.chargers.commands.updateFirmware('CS201', { location: `https://x.org/${'a'.repeat(600)}`, retrieveAt: '2030-01-01T00:00:00.000Z' }, actor)
      .catch((e: unknown) => e);
    const e = sendErrorOf(err);
    expect(e?.kind).toBe('invalid');
    expect(e?.kind === 'invalid' ? e.fields.map((f) => f.field) : []).toEqual(['firmware.location']);
    expect(got201).toEqual([]);
  });
});
