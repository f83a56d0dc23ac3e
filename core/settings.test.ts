import { describe, expect, it } from 'vitest';
import { Accounts } from './accounts.js';
import { MASK, maskSecrets } from './settings.js';
import { type TestApp, useApp } from '../tests/kit/index.js';

let t: TestApp | undefined;
const apps = useApp();

describe('plugin settings', () => {
  it('masks passwords, tokens and URLs with a path, and keeps the rest', () => {
    expect(maskSecrets({
      smtp: { host: 'mail.example.org', port: 587, auth: { user: 'ck', pass: 'hunter2' } },
      token: 'abc', apiKey: 'k', empty: '', sms: { auth: { bearer: 'b' } }, probeKeys: ['HeartbeatInterval'],
      url: 'https://hooks.slack.com/services/T0/B0/XYZ', broker: 'mqtt://ck:pw@10.0.0.2:1883', uploadBaseUrl: 'http://192.168.1.10:8080',
      list: [{ password: 'x', name: 'ops' }],
    })).toEqual({
      smtp: { host: 'mail.example.org', port: 587, auth: { user: 'ck', pass: MASK } },
      token: MASK, apiKey: MASK, empty: '', sms: { auth: { bearer: MASK } }, probeKeys: ['HeartbeatInterval'],
      url: `https://hooks.slack.com/${MASK}`, broker: `mqtt://10.0.0.2:1883/${MASK}`, uploadBaseUrl: 'http://192.168.1.10:8080',
      list: [{ password: MASK, name: 'ops' }],
    });
  });

  it('shows an installer a plugin\'s settings as the site config gives them, with its schema, secrets masked', async () => {
    t = await apps.start({
      config: {
        plugins: {
          diagnostics: { offlineAfter: '7m' },
          alerts: {
            channels: [
              { name: 'mail', type: 'email', smtp: { host: '127.0.0.1', port: 2525, auth: { user: 'ck', pass: 'smtp-secret' } }, from: 'ck@example.org', to: ['ops@example.org'] },
              { name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/hook/secret-path' },
            ],
          },
        },
      },
    });
    await new Accounts(t.app.db, t.clock, 3_600_000).create({ username: 'ian', role: 'installer', password: 'installer-pass-1' });
    await new Accounts(t.app.db, t.clock, 3_600_000).create({ username: 'vera', role: 'viewer', password: 'viewer-pass-1' });
    const ian = await t.login('ian', 'installer-pass-1');

    const diagnostics = await t.api('GET', '/plugins/diagnostics/settings', { token: ian });
    expect(diagnostics.status).toBe(200);
    // Durations in words, defaults filled in.
    expect(diagnostics.body.value).toMatchObject({ offlineAfter: '7m', maintenanceInterval: '1d' });
    expect(diagnostics.body.schema.properties.offlineAfter).toMatchObject({ type: 'string' });
    // Defaults in the same words, so the UI can tell a value is the default.
    expect(diagnostics.body.schema.properties.maintenanceInterval.default).toBe('1d');

    const alerts = (await t.api('GET', '/plugins/alerts/settings', { token: ian })).body;
    expect(alerts.value.channels[0].smtp).toEqual({ host: '127.0.0.1', port: 2525, auth: { user: 'ck', pass: MASK } });
    expect(alerts.value.channels[1].url).toBe(`http://127.0.0.1:9/${MASK}`);
    expect(JSON.stringify(alerts)).not.toContain('secret');

    expect((await t.api('GET', '/plugins/diagnostics/settings', { token: await t.login('vera', 'viewer-pass-1') })).status).toBe(403);
    expect((await t.api('GET', '/plugins/nope/settings', { token: ian })).status).toBe(404);
  });
});
