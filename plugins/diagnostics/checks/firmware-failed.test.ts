import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../../../tests/kit/index.js';
import { active, findings, withDiagnostics } from '../test-kit.js';

let t: TestApp;
const apps = useApp();

describe('firmware-failed check', () => {
  it('raises on a failed firmware download or installation and clears when a firmware is Installed', async () => {
    t = await apps.start(withDiagnostics());
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    await cp.call('FirmwareStatusNotification', { status: 'Downloading' });
    await cp.call('FirmwareStatusNotification', { status: 'DownloadFailed' });
    const [f] = await active(t, 'firmware-failed', 'CP1');
    expect(f).toMatchObject({ subKey: 'firmware', severity: 'warning' });
    expect(f!.message).toMatch(/Firmware update of CP1 failed \(DownloadFailed\)\. Likely cause: the charger could not download/);
    await cp.call('FirmwareStatusNotification', { status: 'InstallationFailed' });
    const [g] = await active(t, 'firmware-failed', 'CP1');
    expect(g!.id).toBe(f!.id);
    expect(g!.cause).toMatch(/could not install it/);
    await cp.call('FirmwareStatusNotification', { status: 'Installed' });
    expect(await active(t, 'firmware-failed')).toEqual([]);
  });

  it('raises on a failed diagnostics upload and clears when one is Uploaded', async () => {
    t = await apps.start(withDiagnostics());
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    await cp.call('DiagnosticsStatusNotification', { status: 'UploadFailed' });
    const [f] = await active(t, 'firmware-failed', 'CP1');
    expect(f).toMatchObject({ subKey: 'diagnostics', severity: 'info' });
    expect(f!.message).toMatch(/could not upload its diagnostics log/);
    await cp.call('DiagnosticsStatusNotification', { status: 'Uploaded' });
    expect(await findings(t, { check: 'firmware-failed' })).toEqual([expect.objectContaining({ id: f!.id, state: 'cleared' })]);
  });
});
