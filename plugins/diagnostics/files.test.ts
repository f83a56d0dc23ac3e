import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, freePort, type TestApp, useApp } from '../../tests/kit/index.js';
import type { DiagnosticsFile } from './files.js';
import { active, tokenFor } from './test-kit.js';

let t: TestApp;
const apps = useApp();

async function boot(): Promise<TestApp> {
  const port = await freePort();
  return apps.start({ config: { http: { port }, plugins: { diagnostics: { uploadBaseUrl: `http://127.0.0.1:${port}` } } } });
}

const LOG = `2025-03-10T10:00:00Z ERROR relay K1 welded\n${'x'.repeat(5000)}\n\u00e9\u00df binary:\u0000\u0001\n`;

describe('diagnostics logs (GetDiagnostics with an upload link on the appliance)', () => {
  it('lands the charger\'s log file through an HTTP multipart POST and lets staff download it', async () => {
    t = await boot();
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    let location = '';
    // The charger answers with the file name, then uploads it like real firmware does: a multipart POST.
    cp.handle('GetDiagnostics', ({ params }: { params: { location: string } }) => {
      location = params.location;
      setTimeout(() => void (async () => {
        await cp.call('DiagnosticsStatusNotification', { status: 'Uploading' });
        const form = new FormData();
        form.append('file', new Blob([Buffer.from(LOG)], { type: 'text/plain' }), 'CP1-diag.log');
        const res = await fetch(params.location, { method: 'POST', body: form });
        await cp.call('DiagnosticsStatusNotification', { status: res.ok ? 'Uploaded' : 'UploadFailed' });
      })(), 10);
      return { fileName: 'CP1-diag.log' };
    });
    const tech = await tokenFor(t, 'technician');
    const res = await t.api<{ file: DiagnosticsFile; response: { fileName: string } }>('POST', '/diagnostics/chargers/CP1/collect', { token: tech, body: { retries: 1 } });
    expect(res.status).toBe(200);
    expect(res.body.file).toMatchObject({ chargerId: 'CP1', state: 'requested', fileName: 'CP1-diag.log', requestedBy: 'diag-technician' });
    expect(location).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${t.port}/api/diagnostics/upload/[A-Za-z0-9_-]{32}$`));

    const viewer = await tokenFor(t, 'viewer');
    const file = await eventually(async () => {
      const list = (await t.api<DiagnosticsFile[]>('GET', '/diagnostics/files?chargerId=CP1', { token: viewer })).body;
      return list[0]?.chargerStatus === 'Uploaded' ? list[0] : null;
    });
    expect(file).toMatchObject({ state: 'uploaded', fileName: 'CP1-diag.log', sizeBytes: Buffer.byteLength(LOG), contentType: 'text/plain' });
    const dir = join(t.dataDir, 'diagnostics', 'CP1');
    expect(readdirSync(dir)).toHaveLength(1);
    expect(readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8')).toBe(LOG);

    // A download link works with the token in the query, as the UI's links use it.
    const dl = await fetch(`${t.url}/api/diagnostics/files/${file!.id}?token=${encodeURIComponent(viewer)}`);
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-disposition')).toMatch(/^attachment; filename="?CP1-diag\.log"?$/);
    expect(await dl.text()).toBe(LOG);
    expect((await fetch(`${t.url}/api/diagnostics/files/${file!.id}`)).status).toBe(401);

    // The link was for one upload only.
    const again = await fetch(location, { method: 'PUT', body: 'second try' });
    expect(again.status).toBe(409);
    expect(await active(t, 'firmware-failed')).toEqual([]);
  });

  it('takes a raw PUT upload, and refuses unknown and expired links', async () => {
    t = await boot();
    const cp = await t.chargePoint('CP2');
    await cp.boot();
    const locations: string[] = [];
    cp.handle('GetDiagnostics', ({ params }: { params: { location: string } }) => {
      locations.push(params.location);
      return { fileName: 'cp2.tar.gz' };
    });
    const first = await t.api('POST', '/diagnostics/chargers/CP2/collect', { body: {} });
    expect(first.status).toBe(200);
    const bytes = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0x00, 0x10]);
    const put = await fetch(`${locations[0]}/cp2.tar.gz`, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/gzip' } });
    expect(put.status).toBe(200);
    const [file] = (await t.api<DiagnosticsFile[]>('GET', '/diagnostics/files?chargerId=CP2')).body;
    expect(file).toMatchObject({ state: 'uploaded', fileName: 'cp2.tar.gz', sizeBytes: 7 });
    const dl = await t.api('GET', `/diagnostics/files/${file!.id}`);
    expect(dl.status).toBe(200);

    expect((await fetch(`${t.url}/api/diagnostics/upload/${'A'.repeat(32)}`, { method: 'POST', body: 'x' })).status).toBe(404);
    await t.api('POST', '/diagnostics/chargers/CP2/collect', { body: {} });
    await t.clock.advance(3 * 3_600_000);
    expect((await fetch(locations[1]!, { method: 'PUT', body: 'late' })).status).toBe(403);
    expect((await t.api<DiagnosticsFile[]>('GET', '/diagnostics/files?chargerId=CP2')).body[0]).toMatchObject({ state: 'expired' });
    expect(existsSync(join(t.dataDir, 'diagnostics', 'CP2'))).toBe(true);
    expect((await t.api('GET', '/diagnostics/files/999')).status).toBe(404);
  });

  it('records a charger that has no diagnostics to give, and answers 409 for an offline charger', async () => {
    t = await boot();
    const cp = await t.chargePoint('CP3');
    await cp.boot();
    cp.handle('GetDiagnostics', () => ({}));
    const res = await t.api<{ file: DiagnosticsFile }>('POST', '/diagnostics/chargers/CP3/collect', { body: {} });
    expect(res.body.file).toMatchObject({ state: 'none', error: expect.stringMatching(/no diagnostics/) });
    expect((await t.api('POST', '/diagnostics/chargers/CP3/collect', { body: { startTime: 'yesterday' } })).status).toBe(400);
    const gone = t.waitFor('charger.disconnected');
    await cp.close({ code: 1000 });
    await gone;
    expect((await t.api('POST', '/diagnostics/chargers/CP3/collect', { body: {} })).status).toBe(409);
  });
});
