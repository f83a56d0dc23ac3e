import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/config.js';
import { startApp } from '../../tests/kit/index.js';
import { applyRules, AlertsConfigSchema, ladder, type AlertsConfig } from './config.js';
import { decode } from '../../core/schema.js';
import { quietUntil } from './time.js';

async function bootError(alerts: Record<string, unknown>): Promise<string[]> {
  try {
    const t = await startApp({ config: { plugins: { alerts } } });
    await t.stop();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

const mail = { name: 'ops-mail', type: 'email', smtp: { host: '127.0.0.1', port: 25 }, from: 'a@b.c', to: ['x@y.z'] };

describe('alerts config', () => {
  it('names an unknown channel type with the known ones', async () => {
    expect(await bootError({ channels: [mail, mail, { name: 'p', type: 'pager' }] })).toEqual([
      'plugins.alerts.channels[1].name: channel name "ops-mail" is used twice',
      'plugins.alerts.channels[2].type: expected one of email, mqtt, webhook, sms, webpush, got "pager"',
    ]);
  });

  it('names the escalation target that is not a channel or person', async () => {
    const problems = await bootError({
      channels: [mail], people: { alice: ['ops-mail'] },
      escalation: [{ after: '0s', notify: ['ops-mail'] }, { after: '30m', notify: ['phone', 'alice'] }],
    });
    expect(problems).toEqual(['plugins.alerts.escalation[1].notify[0]: expected a channel or person: one of ops-mail, alice, got "phone"']);
  });

  it('checks each channel against its type\'s keys', async () => {
    const problems = await bootError({ channels: [
      { name: 'm', type: 'email', smtp: { port: 'x' }, from: 'a@b.c', to: [] },
      { name: 'q', type: 'mqtt', url: 'http://broker', topic: 't', colour: 'red' },
      { name: 'w', type: 'webhook', url: 'https://ntfy.sh/x', preset: 'pushover', quietHours: { from: '22:00', to: '7' } },
    ] });
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^plugins\.alerts\.channels\[0\]\.smtp\.host: is required/),
      expect.stringMatching(/^plugins\.alerts\.channels\[0\]\.smtp\.port: expected an integer/),
      expect.stringMatching(/^plugins\.alerts\.channels\[0\]\.to: /),
      expect.stringMatching(/^plugins\.alerts\.channels\[1\]\.url: expected a URL like mqtt:/),
      expect.stringMatching(/^plugins\.alerts\.channels\[1\]\.colour: unknown key/),
      expect.stringMatching(/^plugins\.alerts\.channels\[2\]\.preset: expected one of ntfy, gotify, slack/),
      expect.stringMatching(/^plugins\.alerts\.channels\[2\]\.quietHours\.to: expected a time HH:MM/),
    ]));
  });

  it('applies the site\'s rules before the defaults: ignore, re-grade, groups', () => {
    const { value } = decode<AlertsConfig>(AlertsConfigSchema, {
      groups: { garage: ['G1', 'G2'] },
      rules: [
        { kind: 'clock-drift', ignore: true },
        { kind: ['offline'], group: 'garage', alertSeverity: 'critical' },
      ],
    });
    const cfg = value!;
    expect(applyRules(cfg, { kind: 'clock-drift', severity: 'warning', chargerId: 'G1' })).toBeNull();
    expect(applyRules(cfg, { kind: 'offline', severity: 'warning', chargerId: 'G1' })).toBe('critical');
    expect(applyRules(cfg, { kind: 'offline', severity: 'warning', chargerId: 'X' })).toBe('warning');
    expect(applyRules(cfg, { kind: 'suspended-ev', severity: 'info', chargerId: 'X' })).toBeNull();
    expect(applyRules(cfg, { kind: 'charger-pending', severity: 'info', chargerId: 'X' })).toBe('info');
  });
});

describe('escalation ladder', () => {
  it('expands on-call people into their channels, once per level, and defaults to every channel at once', () => {
    const channels = [{ name: 'mail', type: 'email' }, { name: 'sms-alice', type: 'sms' }];
    const cfg = decode<AlertsConfig>(AlertsConfigSchema, {
      channels, people: { alice: ['sms-alice', 'mail'] },
      escalation: [{ after: '0s', notify: ['mail'] }, { after: '30m', notify: ['alice', 'mail'] }],
    }).value!;
    expect(ladder(cfg)).toEqual([
      { after: 0, channels: [{ channel: 'mail', recipient: null }] },
      { after: 1_800_000, channels: [{ channel: 'sms-alice', recipient: 'alice' }, { channel: 'mail', recipient: 'alice' }] },
    ]);
    const plain = decode<AlertsConfig>(AlertsConfigSchema, { channels }).value!;
    expect(ladder(plain)).toEqual([{ after: 0, channels: [{ channel: 'mail', recipient: null }, { channel: 'sms-alice', recipient: null }] }]);
  });
});

describe('quiet hours', () => {
  // 2025-01-15 is winter time in Berlin: UTC+1.
  const at = (utc: string) => Date.parse(`2025-01-15T${utc}Z`);
  it('ends quiet hours that wrap midnight at the local morning time', () => {
    const quiet = { from: '22:00', to: '07:00' };
    expect(quietUntil(at('22:30:00'), quiet, 'Europe/Berlin')).toBe(Date.parse('2025-01-16T06:00:00Z'));
    expect(quietUntil(at('05:59:30'), quiet, 'Europe/Berlin')).toBe(at('06:00:00'));
    expect(quietUntil(at('06:00:00'), quiet, 'Europe/Berlin')).toBeNull();
    expect(quietUntil(at('20:59:00'), quiet, 'Europe/Berlin')).toBeNull();
    expect(quietUntil(at('12:00:00'), { from: '12:00', to: '14:00' }, 'UTC')).toBe(at('14:00:00'));
  });
});
