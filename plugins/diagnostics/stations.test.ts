import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, type TestChargePoint, useApp } from '../../tests/kit/index.js';
import { boot201, station } from '../../tests/ocpp/v201-kit.js';
import type { DiagnosticsFile } from './files.js';
import type { ProbeResult } from './probes.js';
import { active, findings, tokenFor, withDiagnostics } from './test-kit.js';

let t: TestApp;
const apps = useApp();
const LOG = 'station log line 1\nstation log line 2\n';

type GetLog = { logType: string; requestId: number; log: { remoteLocation: string; oldestTimestamp?: string; latestTimestamp?: string } };

/** A 2.0.1 station that answers GetLog and uploads its log by multipart POST, reporting each step with the requestId. */
function uploader(cs: TestChargePoint, asked: GetLog[], outcome: 'Uploaded' | 'UploadFailure' = 'Uploaded'): void {
  cs.handle('GetLog', ({ params }: { params: GetLog }) => {
    asked.push(params);
    setTimeout(() => void (async () => {
      await cs.call('LogStatusNotification', { status: 'Uploading', requestId: params.requestId });
      if (outcome === 'Uploaded') {
        const form = new FormData();
        form.append('file', new Blob([Buffer.from(LOG)], { type: 'text/plain' }), 'station.log');
        const res = await fetch(params.log.remoteLocation, { method: 'POST', body: form });
        if (!res.ok) throw new Error(`upload answered ${res.status}`);
      }
      await cs.call('LogStatusNotification', { status: outcome, requestId: params.requestId });
    })().catch(() => undefined), 10);
    return { status: 'Accepted', filename: 'station.log' };
  });
}

describe('diagnostics of OCPP 2.0.1 stations', () => {
  it('collects a 2.0.1 station\'s log by GetLog through the same one-time upload link', async () => {
    t = await apps.start(withDiagnostics());
    const cs = await station(t, 'CS1');
    await boot201(cs);
    const asked: GetLog[] = [];
    uploader(cs, asked);
    const tech = await tokenFor(t, 'technician');
    const from = '2026-01-01T00:00:00.000Z';
    const res = await t.api<{ file: DiagnosticsFile; response: unknown }>('POST', '/diagnostics/chargers/CS1/collect', {
      token: tech, body: { retries: 2, retryInterval: 60, startTime: from },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.file).toMatchObject({ chargerId: 'CS1', state: 'requested', fileName: 'station.log' });
    expect(asked).toEqual([{
      logType: 'DiagnosticsLog', requestId: expect.any(Number), retries: 2, retryInterval: 60,
      log: { remoteLocation: expect.stringMatching(/\/api\/diagnostics\/upload\/[A-Za-z0-9_-]{32}$/), oldestTimestamp: from },
    }]);
    expect(res.body.response).toEqual({ accepted: true, status: 'Accepted', fileName: 'station.log', requestId: asked[0]!.requestId });

    const file = await eventually(async () => {
      const [f] = (await t.api<DiagnosticsFile[]>('GET', '/diagnostics/files?chargerId=CS1')).body;
      return f?.chargerStatus === 'Uploaded' ? f : null;
    });
    expect(file).toMatchObject({ state: 'uploaded', fileName: 'station.log', sizeBytes: Buffer.byteLength(LOG) });
    const dl = await fetch(`${t.url}/api/diagnostics/files/${file!.id}?token=${encodeURIComponent(tech)}`);
    expect(await dl.text()).toBe(LOG);
    // Its notifications read like a 1.6 charger's, with the station's own word and the request they belong to.
    expect(t.seen('diagnostics.status').map((e) => [e.status, e.reported, e.requestId]))
      .toEqual([['Uploading', 'Uploading', asked[0]!.requestId], ['Uploaded', 'Uploaded', asked[0]!.requestId]]);
    expect(await active(t, 'firmware-failed')).toEqual([]);
    // A late notification of another upload leaves this one as it is.
    await cs.call('LogStatusNotification', { status: 'Uploading', requestId: asked[0]!.requestId - 1 });
    await t.app.bus.idle();
    expect((await t.api<DiagnosticsFile[]>('GET', '/diagnostics/files?chargerId=CS1')).body[0]).toMatchObject({ state: 'uploaded', chargerStatus: 'Uploaded' });
  });

  it('flags a 2.0.1 station whose upload failed, marks its file failed, and says when it refused the request', async () => {
    t = await apps.start(withDiagnostics());
    const cs = await station(t, 'CS2');
    await boot201(cs);
    const asked: GetLog[] = [];
    uploader(cs, asked, 'UploadFailure');
    expect((await t.api('POST', '/diagnostics/chargers/CS2/collect', { body: {} })).status).toBe(200);
    const [f] = await eventually(async () => {
      const list = await active(t, 'firmware-failed', 'CS2');
      return list.length ? list : null;
    }) as Awaited<ReturnType<typeof active>>;
    expect(f!.message).toMatch(/could not upload its diagnostics log \(UploadFailure\)/);
    const [file] = (await t.api<DiagnosticsFile[]>('GET', '/diagnostics/files?chargerId=CS2')).body;
    expect(file).toMatchObject({ state: 'failed', chargerStatus: 'UploadFailed', error: 'the charger reported UploadFailed' });

    // A refusal is the station's answer, not an upload.
    cs.handle('GetLog', () => ({ status: 'Rejected' }));
    const refused = await t.api<{ file: DiagnosticsFile; response: { accepted: boolean } }>('POST', '/diagnostics/chargers/CS2/collect', { body: {} });
    expect(refused.status).toBe(200);
    expect(refused.body.response).toMatchObject({ accepted: false, status: 'Rejected' });
    expect(refused.body.file).toMatchObject({ state: 'failed', error: 'the charger answered Rejected' });
  });

  it('probes a 2.0.1 station: triggers by TriggerMessage, its settings read by GetVariables under their 1.6 names', async () => {
    t = await apps.start(withDiagnostics({ probeTimeout: '2s' }));
    const cs = await station(t, 'CS3');
    await boot201(cs);
    const triggers: unknown[] = [];
    cs.handle('TriggerMessage', ({ params }) => { triggers.push(params); return { status: triggers.length === 1 ? 'Accepted' : 'Rejected' }; });
    const values: Record<string, string> = { 'OCPPCommCtrlr.HeartbeatInterval': '300', 'SampledDataCtrlr.TxUpdatedInterval': '0', 'AuthCacheCtrlr.Enabled': 'true' };
    let asked: Array<{ component: { name: string }; variable: { name: string } }> = [];
    cs.handle('GetVariables', ({ params }: { params: { getVariableData: typeof asked } }) => {
      asked = params.getVariableData;
      // Answered in reverse order: matched by name, not position.
      return {
        getVariableResult: [...asked].reverse().map((d) => {
          const value = values[`${d.component.name}.${d.variable.name}`];
          return value === undefined ? { attributeStatus: 'UnknownVariable', component: d.component, variable: d.variable }
            : { attributeStatus: 'Accepted', attributeValue: value, component: d.component, variable: d.variable };
        }),
      };
    });
    const res = await t.api<ProbeResult>('POST', '/diagnostics/chargers/CS3/run');
    expect(res.status).toBe(200);
    expect(triggers).toEqual([{ requestedMessage: 'StatusNotification' }, { requestedMessage: 'Heartbeat' }]);
    expect(res.body.steps.map((s) => [s.action, s.outcome])).toEqual([['TriggerMessage', 'answered'], ['TriggerMessage', 'rejected'], ['GetVariables', 'answered']]);
    expect(asked.map((d) => `${d.component.name}.${d.variable.name}`)).toContain('SampledDataCtrlr.TxUpdatedInterval');
    expect(res.body).toMatchObject({
      outcome: 'partial', configuration: { HeartbeatInterval: '300', MeterValueSampleInterval: '0', AuthorizationCacheEnabled: 'true' },
    });
    expect(res.body.unknownKeys).toContain('LocalAuthListEnabled');
    expect(res.body.notes.join(' ')).toMatch(/MeterValueSampleInterval = 0/);
    expect(res.body.notes.join(' ')).toMatch(/The charger refused TriggerMessage Heartbeat/);
    expect(await findings(t, { check: 'unresponsive' })).toEqual([]);
  });

  it('names the 2.0.1 action a hung station did not answer', async () => {
    t = await apps.start(withDiagnostics({ probeTimeout: '1s' }));
    const cs = await station(t, 'CS4');
    await boot201(cs);
    cs.handle('TriggerMessage', () => new Promise(() => undefined));
    const res = await t.api<ProbeResult>('POST', '/diagnostics/chargers/CS4/run');
    expect(res.body.steps.map((s) => [s.action, s.outcome])).toEqual([['TriggerMessage', 'timeout'], ['TriggerMessage', 'skipped'], ['GetVariables', 'skipped']]);
    const [f] = await active(t, 'unresponsive', 'CS4');
    expect(f!.message).toMatch(/\(TriggerMessage got no reply within 1 s\)/);
  });
});
