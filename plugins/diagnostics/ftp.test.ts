import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'basic-ftp';
import { describe, expect, it } from 'vitest';
import { eventually, freePort, type TestApp, useApp } from '../../tests/kit/index.js';
import type { DiagnosticsFile } from './files.js';

let t: TestApp;
const apps = useApp();

async function boot(): Promise<{ ftpPort: number }> {
  const ftpPort = await freePort();
  t = await apps.start({ config: { plugins: { diagnostics: { ftp: { enabled: true, host: '127.0.0.1', port: ftpPort, publicUrl: `ftp://127.0.0.1:${ftpPort}` } } } } });
  return { ftpPort };
}

/** Uploads like an FTP-only charger: the user and password come from the location it was given. */
async function ftpUpload(location: string, name: string, body: string): Promise<void> {
  const url = new URL(location);
  const client = new Client(5000);
  try {
    await client.access({ host: url.hostname, port: Number(url.port), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) });
    await client.uploadFrom(Readable.from([Buffer.from(body)]), name);
  } finally {
    client.close();
  }
}

const LOG = `2025-03-10T10:00:00Z ERROR RCD tripped\n${'y'.repeat(3000)}\n`;

describe('diagnostics upload over FTP (diagnostics.ftp)', () => {
  it('lands a log a charger puts on the embedded FTP server with its one-time user, and accepts that user once', async () => {
    const { ftpPort } = await boot();
    const cp = await t.chargePoint('FTP1');
    await cp.boot();
    let location = '';
    cp.handle('GetDiagnostics', ({ params }: { params: { location: string } }) => {
      location = params.location;
      setTimeout(() => void (async () => {
        await cp.call('DiagnosticsStatusNotification', { status: 'Uploading' });
        await ftpUpload(params.location, 'FTP1-diag.log', LOG);
        await cp.call('DiagnosticsStatusNotification', { status: 'Uploaded' });
      })(), 10);
      return { fileName: 'FTP1-diag.log' };
    });
    const res = await t.api<{ file: DiagnosticsFile }>('POST', '/diagnostics/chargers/FTP1/collect', { body: { via: 'ftp' } });
    expect(res.status).toBe(200);
    expect(res.body.file).toMatchObject({ state: 'requested', via: 'ftp' });
    expect(location).toMatch(new RegExp(`^ftp://diag[0-9a-f]{12}:[A-Za-z0-9_-]{24}@127\\.0\\.0\\.1:${ftpPort}/$`));

    const file = await eventually(async () => {
      const [f] = (await t.api<DiagnosticsFile[]>('GET', '/diagnostics/files?chargerId=FTP1')).body;
      return f?.chargerStatus === 'Uploaded' ? f : null;
    });
    expect(file).toMatchObject({ state: 'uploaded', fileName: 'FTP1-diag.log', sizeBytes: Buffer.byteLength(LOG) });
    const dir = join(t.dataDir, 'diagnostics', 'FTP1');
    expect(readdirSync(dir)).toHaveLength(1);
    expect(readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8')).toBe(LOG);
    expect((await t.api('GET', `/diagnostics/files/${file!.id}`)).status).toBe(200);

    // The user was for one upload; a guessed one gets nothing either.
    await expect(ftpUpload(location, 'again.log', 'second')).rejects.toThrow();
    const guessed = new URL(location);
    guessed.password = 'wrong-password';
    await expect(ftpUpload(guessed.toString(), 'x.log', 'x')).rejects.toThrow();
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('says the real cause when no upload can happen', async () => {
    await boot();
    const cp = await t.chargePoint('FTP2');
    await cp.boot();
    cp.handle('GetDiagnostics', () => ({ fileName: 'FTP2.log' }));
    // The charger cannot reach the FTP server and reports UploadFailed.
    await t.api('POST', '/diagnostics/chargers/FTP2/collect', { body: { via: 'ftp' } });
    await cp.call('DiagnosticsStatusNotification', { status: 'UploadFailed' });
    const failed = await eventually(async () => (await t.api<DiagnosticsFile[]>('GET', '/diagnostics/files?chargerId=FTP2')).body.find((f) => f.state === 'failed'));
    expect(failed!.error).toMatch(/UploadFailed: it never connected to the FTP server/);

    // The charger says nothing at all: once the deadline passes, the request says no upload came.
    await t.api('POST', '/diagnostics/chargers/FTP2/collect', { body: { via: 'ftp' } });
    await t.clock.advance(3 * 3_600_000);
    const [late] = (await t.api<DiagnosticsFile[]>('GET', '/diagnostics/files?chargerId=FTP2')).body;
    expect(late).toMatchObject({ state: 'expired', error: expect.stringMatching(/^no upload arrived within 120 min of the request; the charger never connected to the FTP server/) });
    expect(existsSync(join(t.dataDir, 'diagnostics', 'FTP2'))).toBe(false);
  });

  it('answers 400 for an FTP upload while the FTP server is off', async () => {
    t = await apps.start({ config: { plugins: { diagnostics: {} } } });
    const cp = await t.chargePoint('FTP3');
    await cp.boot();
    const res = await t.api('POST', '/diagnostics/chargers/FTP3/collect', { body: { via: 'ftp' } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'via', message: 'the FTP upload server is off (set diagnostics.ftp.enabled)' }]);
  });
});
