import { readFileSync } from 'node:fs';
import ocppRpc from 'ocpp-rpc';
import { describe, expect, it } from 'vitest';
import {
  bootedCharger, createTag, createUser, eventually, scrape, type Scrape, type TestApp, type TestChargePoint,
  upgradeStatus, useApp, usePeers,
} from '../kit/index.js';

const { createRPCError } = ocppRpc;

let t: TestApp;
const apps = useApp();
const peers = usePeers();

type Frame = [number, string, ...unknown[]];
let channelsNow: Array<{ name: string; waiting: number }> = [];
const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/**
 * The OCPP traffic as the chargers saw it, counted at their end of the sockets and keyed like the server's
 * labels: direction in = charger to server. `calls` are answered calls by the caller's direction.
 */
class Wire {
  readonly messages = new Map<string, number>();
  readonly errors = new Map<string, number>();
  readonly calls = new Map<string, number>();

  watch(cp: TestChargePoint): TestChargePoint {
    const label = (action: unknown) => (action === 'FlyToTheMoon' ? 'other' : String(action));
    const mine = new Map<string, string>();
    const theirs = new Map<string, string>();
    const on = cp.on.bind(cp) as (event: string, fn: (e: { outbound: boolean; payload: Frame }) => void) => void;
    on('call', ({ outbound, payload }) => {
      (outbound ? mine : theirs).set(payload[1], label(payload[2]));
      bump(this.messages, `${label(payload[2])} ${outbound ? 'in' : 'out'}`);
    });
    on('response', ({ outbound, payload }) => {
      // A reply from the charger answers the server's call ("out"); one to the charger answers its own ("in").
      const action = (outbound ? theirs : mine).get(payload[1]) ?? 'other';
      const direction = outbound ? 'in' : 'out';
      bump(this.messages, `${action} ${direction}`);
      if (action !== 'other' || payload[1] !== '-1') bump(this.calls, `${action} ${outbound ? 'out' : 'in'}`);
      if (payload[0] === 4) bump(this.errors, `${action} ${direction} ${String(payload[2])}`);
    });
    return cp;
  }
}

/** A scrape's samples of a counter as "label label ..." → value, for the given label names. */
const table = (s: Scrape, name: string, labels: string[]) =>
  new Map(s.samples(name).map((x) => [labels.map((l) => x.labels[l]).join(' '), x.value]));

describe('Prometheus metrics at GET /metrics', () => {
  it('are for staff tokens only, and count chargers, OCPP traffic, sessions, energy, alerts and storage as the appliance tells them', async () => {
    const up = await peers.receiver();
    const down = await peers.receiver();
    down.state.status = 503;
    t = await apps.start({
      config: {
        plugins: {
          users: {},
          alerts: { channels: [{ name: 'up', type: 'webhook', url: up.url }, { name: 'down', type: 'webhook', url: down.url }] },
        },
      },
    });

    // Who may scrape: a viewer's personal API token, an admin's session; not a driver, not without a token.
    const vera = await createUser(t, 'vera', 'viewer', 'viewer-pass-1');
    const veraSession = await t.login('vera', 'viewer-pass-1');
    const personal = await t.api('POST', `/users/${vera.id}/tokens`, { token: veraSession, body: { label: 'prometheus' } });
    expect(personal.status).toBe(201);
    const token = personal.body.token as string;
    await createUser(t, 'dave', 'driver', 'driver-pass-1');
    expect((await scrape(t, null)).status).toBe(401);
    expect((await scrape(t, 'ck_forged')).status).toBe(401);
    expect((await scrape(t, await t.login('dave', 'driver-pass-1'))).status).toBe(403);
    expect((await scrape(t, await t.login())).status).toBe(200);

    // Six chargers: A charges (its newest power reading per phase), B charged and stopped, C charges and sends what OCPP forbids.
    const wire = new Wire();
    for (const idTag of ['TAG-A', 'TAG-B', 'TAG-C']) await createTag(t, { idTag });
    const [a, b, c, x, y, z] = await Promise.all(['CP-A', 'CP-B', 'CP-C', 'CP-X', 'CP-Y', 'CP-Z'].map(async (id) => {
      const cp = wire.watch(await t.chargePoint(id, { strict: id !== 'CP-C' }));
      expect((await cp.boot()).status).toBe('Accepted');
      return cp;
    })) as [TestChargePoint, TestChargePoint, TestChargePoint, TestChargePoint, TestChargePoint, TestChargePoint];
    const now = (agoMs = 0) => new Date(Date.now() - agoMs).toISOString();
    for (const cp of [a, b, c]) await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
    const txA = (await a.call('StartTransaction', { connectorId: 1, idTag: 'TAG-A', meterStart: 1000, timestamp: now(120_000) }) as { transactionId: number }).transactionId;
    await a.call('MeterValues', {
      connectorId: 1, transactionId: txA, meterValue: [
        { timestamp: now(60_000), sampledValue: [{ value: '1.2', unit: 'kWh', measurand: 'Energy.Active.Import.Register' }, { value: '11000', measurand: 'Power.Active.Import' }] },
        { timestamp: now(), sampledValue: [
          { value: '1.5', unit: 'kWh', measurand: 'Energy.Active.Import.Register' },
          ...['L1', 'L2', 'L3'].map((phase) => ({ value: '2400', unit: 'W', measurand: 'Power.Active.Import', phase })),
        ] },
      ],
    });
    const txC = (await c.call('StartTransaction', { connectorId: 1, idTag: 'TAG-C', meterStart: 200, timestamp: now() }) as { transactionId: number }).transactionId;
    await c.call('MeterValues', {
      connectorId: 1, transactionId: txC, meterValue: [{ timestamp: now(), sampledValue: [
        { value: '0.7', unit: 'kWh', measurand: 'Energy.Active.Import.Register' }, { value: '3.6', unit: 'kW', measurand: 'Power.Active.Import' },
        // A reading at the charger's inlet includes its own use: not the car's.
        { value: '9.9', unit: 'kW', measurand: 'Power.Active.Import', location: 'Inlet' },
      ] }],
    });
    const txB = (await b.call('StartTransaction', { connectorId: 1, idTag: 'TAG-B', meterStart: 5000, timestamp: now() }) as { transactionId: number }).transactionId;
    await b.call('MeterValues', {
      connectorId: 1, transactionId: txB, meterValue: [{ timestamp: now(), sampledValue: [
        { value: '6200', measurand: 'Energy.Active.Import.Register' }, { value: '11000', measurand: 'Power.Active.Import' },
      ] }],
    });
    await b.call('StopTransaction', { transactionId: txB, meterStop: 7000, timestamp: now(), reason: 'EVDisconnected' });
    await expect(c.call('StatusNotification', { connectorId: 1, status: 'Exploding', errorCode: 'NoError' })).rejects.toMatchObject({ rpcErrorCode: 'PropertyConstraintViolation' });
    await expect(c.call('FlyToTheMoon', {})).rejects.toMatchObject({ rpcErrorCode: 'NotImplemented' });
    c.sendRaw('this is not an OCPP frame');
    await c.call('Heartbeat', {});

    // Our calls: answered, refused with a CALLERROR, and one the charger never answers (it goes away).
    a.handle('Reset', () => ({ status: 'Accepted' }));
    a.handle('UnlockConnector', () => { throw createRPCError('NotSupported', 'no motor in this socket'); });
    expect((await t.api('POST', '/chargers/CP-A/commands/Reset', { body: { type: 'Soft' } })).status).toBe(200);
    expect((await t.api('POST', '/chargers/CP-A/commands/UnlockConnector', { body: { connectorId: 1 } })).status).toBe(502);
    b.handle('ClearCache', () => {
      setTimeout(() => void b.close({ code: 1000, force: true }), 50);
      return new Promise(() => undefined);
    });
    expect((await t.api('POST', '/chargers/CP-B/commands/ClearCache', { body: {} })).status).toBe(409);

    // Alerts in each state: X, Y and Z are refused for a wrong password; Y's is acknowledged, Z's resolved.
    for (const cp of [x, y, z]) {
      expect((await t.api('PATCH', `/chargers/${cp.id}`, { body: { password: 'right-password-1' } })).status).toBe(200);
      expect(await upgradeStatus(t.port, cp.id, 'wrong-password-1')).toBe(401);
    }
    const alertOf = async (id: string) => eventually(async () => (await t.api('GET', `/alerts?chargerId=${id}`)).body[0]);
    expect((await t.api('POST', `/alerts/${(await alertOf('CP-Y')).id}/ack`)).status).toBe(200);
    expect((await t.api('POST', `/alerts/${(await alertOf('CP-Z')).id}/resolve`)).status).toBe(200);
    await alertOf('CP-X');
    // The notices have gone out through "up" and wait for their retry on "down".
    await eventually(async () => {
      const [upCh, downCh] = ['up', 'down'].map((name) => channelsNow.find((ch) => ch.name === name)!);
      channelsNow = (await t.api('GET', '/alerts/channels')).body;
      return upCh?.waiting === 0 && downCh!.waiting > 0;
    }, 10_000);

    // Once the traffic has settled, the scrape says what the chargers and the API say.
    let s!: Scrape;
    await eventually(async () => {
      s = await scrape(t, token);
      const messages = table(s, 'chargekeeper_ocpp_messages_total', ['action', 'direction']);
      return JSON.stringify([...messages].sort()) === JSON.stringify([...wire.messages].sort());
      // A loaded machine may still be delivering the last calls (a reconnect after a password change boots again).
    }, 15_000).catch(() => expect(table(s, 'chargekeeper_ocpp_messages_total', ['action', 'direction'])).toEqual(wire.messages));
    expect(s.status).toBe(200);
    expect(s.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(s.value('chargekeeper_ocpp_messages_total', { action: 'MeterValues', direction: 'in' })).toBe(3);
    expect(s.value('chargekeeper_ocpp_messages_total', { action: 'other', direction: 'in' })).toBe(1);

    // CALLERRORs by code: ours (out) and the chargers' (in); the frame that was no frame is counted too.
    expect(table(s, 'chargekeeper_ocpp_errors_total', ['action', 'direction', 'code'])).toEqual(wire.errors);
    for (const key of ['StatusNotification out PropertyConstraintViolation', 'other out NotImplemented', 'other out RpcFrameworkError', 'UnlockConnector in NotSupported']) {
      expect(s.value('chargekeeper_ocpp_errors_total', Object.fromEntries(['action', 'direction', 'code'].map((l, i) => [l, key.split(' ')[i]!])))).toBe(1);
    }
    expect(s.value('chargekeeper_ocpp_bad_frames_total')).toBe(1);
    expect(s.value('chargekeeper_ocpp_unanswered_calls_total', { action: 'ClearCache' })).toBe(1);

    // Latency: one series per action and direction, buckets cumulative, +Inf = _count = the calls answered.
    const latency = s.histogram('chargekeeper_ocpp_call_duration_seconds');
    expect(new Map(latency.map((h) => [`${h.labels.action} ${h.labels.direction}`, h.count]))).toEqual(wire.calls);
    for (const h of [...latency, ...s.histogram('chargekeeper_db_commit_seconds')]) {
      for (let i = 1; i < h.buckets.length; i++) expect(h.buckets[i]!.count).toBeGreaterThanOrEqual(h.buckets[i - 1]!.count);
      expect(h.buckets.at(-1)).toEqual({ le: Infinity, count: h.count });
      expect(h.sum).toBeGreaterThanOrEqual(0);
    }
    expect(latency.find((h) => h.labels.action === 'Reset')).toMatchObject({ labels: { direction: 'out' }, count: 1 });

    // Chargers, as GET /api/chargers has them.
    const chargers = (await t.api('GET', '/chargers')).body as Array<{ id: string; online: boolean }>;
    expect(s.value('chargekeeper_chargers_connected')).toBe(chargers.filter((ch) => ch.online).length);
    expect(s.value('chargekeeper_chargers_connected')).toBe(2);
    expect(s.value('chargekeeper_chargers_offline')).toBe(4);
    expect(table(s, 'chargekeeper_charger_connected', ['charger'])).toEqual(new Map(chargers.map((ch) => [ch.id, ch.online ? 1 : 0])));

    // Sessions and energy: the newest registers of A and C, B's at its stop; power from the newest car-side
    // reading (A's per phase, C's total in kW), none for a charger off line.
    expect(s.value('chargekeeper_sessions_active')).toBe(2);
    expect(s.value('chargekeeper_sessions_started_total')).toBe(3);
    expect(s.value('chargekeeper_sessions_stopped_total')).toBe(1);
    expect(table(s, 'chargekeeper_charger_energy_wh', ['charger'])).toEqual(new Map([['CP-A', 1500], ['CP-B', 7000], ['CP-C', 700]]));
    expect(table(s, 'chargekeeper_charger_power_w', ['charger'])).toEqual(new Map([['CP-A', 7200], ['CP-C', 3600]]));
    const sessionA = (await t.api('GET', `/transactions/${txA}`)).body as { meterValues: Array<{ measurand: string; value: number }> };
    expect(sessionA.meterValues.filter((m) => m.measurand === 'Energy.Active.Import.Register').map((m) => m.value)).toEqual([1200, 1500]);

    // Alerts by state and severity, as GET /api/alerts lists them; the outbox backlog as the channels page has it.
    const alerts = (await t.api('GET', '/alerts?limit=1000')).body as Array<{ state: string; severity: string }>;
    const byState = new Map<string, number>();
    for (const al of alerts) bump(byState, `${al.state} ${al.severity}`);
    for (const [key, n] of table(s, 'chargekeeper_alerts', ['state', 'severity'])) expect(n, key).toBe(byState.get(key) ?? 0);
    expect(['open', 'acknowledged', 'resolved'].map((state) => s.value('chargekeeper_alerts', { state, severity: 'warning' }))).toEqual([1, 1, 1]);
    const channels = (await t.api('GET', '/alerts/channels')).body as Array<{ name: string; waiting: number }>;
    expect(table(s, 'chargekeeper_alerts_outbox_backlog', ['channel'])).toEqual(new Map(channels.map((ch) => [ch.name, ch.waiting])));
    expect(s.value('chargekeeper_alerts_outbox_backlog', { channel: 'down' })).toBeGreaterThan(0);
    expect(s.value('chargekeeper_alerts_outbox_backlog', { channel: 'up' })).toBe(0);

    // Storage and the process.
    expect(s.histogram('chargekeeper_db_commit_seconds')[0]!.count).toBeGreaterThan(5);
    expect(s.histogram('chargekeeper_db_commit_seconds')[0]!.count).toBeLessThanOrEqual(t.app.writer.stats.commits);
    expect(s.value('chargekeeper_db_writes_total')).toBeGreaterThanOrEqual(s.histogram('chargekeeper_db_commit_seconds')[0]!.count);
    for (const name of ['nodejs_eventloop_lag_seconds', 'process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes']) {
      expect(s.types.has(name), name).toBe(true);
    }

    // Bounded labels: known OCPP actions or "other", stored chargers only.
    const known = new Set(['other', ...(await t.api('GET', '/commands')).body.map((cmd: { action: string }) => cmd.action),
      'Authorize', 'BootNotification', 'DataTransfer', 'DiagnosticsStatusNotification', 'FirmwareStatusNotification', 'Heartbeat',
      'MeterValues', 'StartTransaction', 'StatusNotification', 'StopTransaction']);
    for (const name of ['chargekeeper_ocpp_messages_total', 'chargekeeper_ocpp_errors_total']) {
      for (const x of s.samples(name)) expect(known, x.labels.action).toContain(x.labels.action);
    }
    const stored = new Set(chargers.map((ch) => ch.id));
    for (const name of ['chargekeeper_charger_connected', 'chargekeeper_charger_energy_wh', 'chargekeeper_charger_power_w']) {
      for (const x of s.samples(name)) expect(stored).toContain(x.labels.charger);
    }
  });

  it('need no token with http.metrics.public, and are not served with http.metrics.enabled false', async () => {
    t = await apps.start({ config: { http: { metrics: { public: true } } } });
    await bootedCharger(t, 'CP1');
    const s = await scrape(t, null);
    expect(s.status).toBe(200);
    expect(s.value('chargekeeper_chargers_connected')).toBe(1);
    expect((await t.api('GET', '/openapi.json', { token: null })).body.paths['/metrics'].get['x-roles']).toBe('public');
    await t.stop();

    t = await apps.start({ config: { http: { metrics: { enabled: false } } } });
    expect((await scrape(t, await t.login())).status).toBe(404);
    expect((await t.api('GET', '/openapi.json', { token: null })).body.paths['/metrics']).toBeUndefined();
  });

  it('has a Grafana dashboard whose every query names metrics a real scrape has, and a panel for each metric', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana/chargekeeper.json', import.meta.url), 'utf8')) as {
      __inputs: Array<{ name: string; type: string; pluginId: string }>;
      templating: { list: Array<{ name: string; datasource: { uid: string }; query: { query: string } }> };
      panels: Array<{ title: string; type: string; datasource?: { uid: string }; targets?: Array<{ expr: string; datasource: { uid: string } }> }>;
    };
    expect(dashboard.__inputs).toContainEqual(expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }));
    const queried = dashboard.panels.filter((p) => p.type !== 'row');
    expect(queried.length).toBeGreaterThan(15);
    for (const p of queried) {
      expect(p.datasource?.uid, p.title).toBe('${DS_PROMETHEUS}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const q of p.targets!) expect(q.datasource.uid, p.title).toBe('${DS_PROMETHEUS}');
    }
    const queries = [...queried.flatMap((p) => p.targets!.map((q) => q.expr)), ...dashboard.templating.list.map((v) => v.query.query)];

    t = await apps.start({ config: { plugins: { alerts: {} } } });
    const cp = await bootedCharger(t, 'CP1');
    await cp.call('Heartbeat', {});
    const s = await scrape(t, await t.login());
    // The series a family is queried by: a histogram's <name>_bucket, _sum and _count, any other family its name.
    const seriesOf = (name: string, type: string) => (type === 'HISTOGRAM' ? ['_bucket', '_sum', '_count'].map((x) => name + x) : [name]);
    const scraped = new Set([...s.types].flatMap(([name, type]) => seriesOf(name, type)));
    const used = new Set(queries.flatMap((q) => q.match(/\b(?:chargekeeper|nodejs|process)_[a-z0-9_]+/g) ?? []));
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((name) => !scraped.has(name))).toEqual([]);
    const withoutPanel = [...s.types].filter(([name, type]) => name.startsWith('chargekeeper_') && !seriesOf(name, type).some((x) => used.has(x)));
    expect(withoutPanel).toEqual([]);
  });
});
