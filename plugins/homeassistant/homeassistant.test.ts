import { describe, expect, it } from 'vitest';
import { eventually, freePort, sleep, type TestApp, useApp, usePeers } from '../../tests/kit/index.js';
import { bootedCharger, haConfig, meter, startHaBroker, watch, type HaBroker, type Watcher } from './test-kit.js';
import { slugOf } from './topics.js';

const apps = useApp();
const peers = usePeers();

async function setup(extra: Record<string, unknown> = {}): Promise<{ t: TestApp; broker: HaBroker; mq: Watcher }> {
  const broker = await startHaBroker();
  peers.defer(() => broker.close());
  const t = await apps.start({ config: { plugins: { homeassistant: haConfig(broker.url, extra) } } });
  const mq = await watch(broker.url);
  peers.defer(() => mq.close().catch(() => undefined));
  await mq.until('ck/status', (m) => m.text === 'online');
  return { t, broker, mq };
}

describe('homeassistant discovery', () => {
  it('announces a device per charger and its entities per connector, retained, with states a new subscriber reads at once', async () => {
    const { t, broker } = await setup();
    await bootedCharger(t, 'HA-A', 2);
    await bootedCharger(t, 'HA-B', 1);
    // A subscriber that comes later (Home Assistant starting) reads everything from retained messages.
    await eventually(async () => (await t.api('GET', '/homeassistant/status')).body.announcedChargers === 2);
    await sleep(200);
    const late = await watch(broker.url);
    peers.defer(() => late.close());
    await eventually(() => late.configs('ha', 'HA-B').size === 8);
    await eventually(() => late.configs('ha', 'HA-A').size === 14);
    const a = late.configs('ha', 'HA-A');
    expect([...a.keys()].sort()).toEqual([
      'ha/binary_sensor/chargekeeper_HA-A/c1_session/config', 'ha/binary_sensor/chargekeeper_HA-A/c2_session/config',
      'ha/binary_sensor/chargekeeper_HA-A/online/config',
      'ha/sensor/chargekeeper_HA-A/c1_energy/config', 'ha/sensor/chargekeeper_HA-A/c1_power/config',
      'ha/sensor/chargekeeper_HA-A/c1_session_duration/config', 'ha/sensor/chargekeeper_HA-A/c1_session_energy/config',
      'ha/sensor/chargekeeper_HA-A/c1_status/config',
      'ha/sensor/chargekeeper_HA-A/c2_energy/config', 'ha/sensor/chargekeeper_HA-A/c2_power/config',
      'ha/sensor/chargekeeper_HA-A/c2_session_duration/config', 'ha/sensor/chargekeeper_HA-A/c2_session_energy/config',
      'ha/sensor/chargekeeper_HA-A/c2_status/config',
      'ha/sensor/chargekeeper_HA-A/last_error/config',
    ]);
    for (const m of a.values()) {
      expect(m.retain).toBe(true);
      expect(m.json.device).toEqual({ identifiers: ['chargekeeper_HA-A'], name: 'Charger HA-A', manufacturer: 'TestVendor', model: 'TestModel', sw_version: '1.0.0' });
      expect(m.json.unique_id).toMatch(/^chargekeeper_HA-A_/);
    }
    const power = a.get('ha/sensor/chargekeeper_HA-A/c2_power/config')!.json;
    expect(power).toMatchObject({
      device_class: 'power', state_class: 'measurement', unit_of_measurement: 'W', state_topic: 'ck/HA-A/2/state',
      availability: [{ topic: 'ck/status' }, { topic: 'ck/HA-A/availability' }], availability_mode: 'all',
    });
    expect(a.get('ha/sensor/chargekeeper_HA-A/c1_energy/config')!.json).toMatchObject({ device_class: 'energy', state_class: 'total_increasing', unit_of_measurement: 'Wh' });
    expect(a.get('ha/sensor/chargekeeper_HA-A/c1_status/config')!.json.options).toContain('Charging');
    // The online sensor stays available while the charger is offline, to say so.
    expect(a.get('ha/binary_sensor/chargekeeper_HA-A/online/config')!.json).toMatchObject({ device_class: 'connectivity', availability: [{ topic: 'ck/status' }] });
    expect(await late.until('ck/HA-A/availability', () => true)).toMatchObject({ text: 'online', retain: true });
    expect((await late.until('ck/HA-A/state', () => true)).json).toEqual({ online: true });
    expect((await late.until('ck/HA-A/2/state', () => true)).json).toEqual({ status: 'Available', powerW: null, energyWh: null, session: { active: false, startedAt: null, energyWh: 0, durationS: 0 } });
    expect((await late.until('ck/HA-A/error', () => true)).json).toMatchObject({ error: 'none' });
    expect(await late.until('ck/status', () => true)).toMatchObject({ text: 'online', retain: true });
  });

  it('follows status, readings and sessions, and keeps card ids off the broker', async () => {
    const { t, mq } = await setup();
    const cp = await bootedCharger(t, 'HA-S', 1);
    await mq.until('ha/sensor/chargekeeper_HA-S/c1_status/config', (m) => m.json !== null);
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
    await mq.until('ck/HA-S/1/state', (m) => m.json.status === 'Preparing');
    const started = new Date(Date.now() - 90_000).toISOString();
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'SECRET-CARD', meterStart: 10_000, timestamp: started }) as { transactionId: number };
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    await cp.call('MeterValues', meter(1, transactionId, 12_500, 7_200));
    const charging = await mq.until('ck/HA-S/1/state', (m) => m.json.powerW === 7200 && m.json.status === 'Charging');
    expect(charging.json).toMatchObject({ energyWh: 12_500, session: { active: true, startedAt: started, energyWh: 2_500 } });
    expect(charging.json.session.durationS).toBeGreaterThanOrEqual(90);
    // A reading sent late (queued while offline) does not move the sensors back.
    await cp.call('MeterValues', meter(1, transactionId, 11_000, 3_000, new Date(Date.now() - 60_000).toISOString()));
    await cp.call('StopTransaction', { transactionId, meterStop: 14_000, timestamp: new Date().toISOString(), idTag: 'SECRET-CARD' });
    const stopped = await mq.until('ck/HA-S/1/state', (m) => m.json.session.active === false);
    expect(stopped.json).toMatchObject({ powerW: 0, energyWh: 14_000 });
    expect(mq.messages.some((m) => m.topic === 'ck/HA-S/1/state' && m.json.energyWh === 11_000)).toBe(false);
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'GroundFailure', status: 'Faulted', info: 'RCD tripped' });
    const error = await mq.until('ck/HA-S/error', (m) => m.json.error === 'GroundFailure');
    expect(error.json).toMatchObject({ connectorId: 1, info: 'RCD tripped' });
    await mq.until('ck/HA-S/1/state', (m) => m.json.status === 'Faulted');
    // The error stays the last one when the fault clears.
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    await mq.until('ck/HA-S/1/state', (m) => m.json.status === 'Available');
    expect(mq.latest('ck/HA-S/error')!.json.error).toBe('GroundFailure');
    expect(mq.messages.filter((m) => m.text.includes('SECRET-CARD'))).toEqual([]);
  });

  it('says when a charger goes offline and back, and the broker says offline for the appliance when its link breaks', async () => {
    const { t, broker, mq } = await setup();
    const cp = await bootedCharger(t, 'HA-ON', 1);
    await mq.until('ck/HA-ON/availability', (m) => m.text === 'online');
    await cp.close({ code: 1000 });
    await mq.until('ck/HA-ON/availability', (m) => m.text === 'offline');
    await mq.until('ck/HA-ON/state', (m) => m.json.online === false);
    await bootedCharger(t, 'HA-ON', 1);
    await mq.until('ck/HA-ON/availability', (m) => m.text === 'online');
    // A link cut without a goodbye: the broker publishes the appliance's will, and the appliance comes back by itself.
    const before = mq.messages.length;
    expect(broker.dropAppliance()).toBe(1);
    await eventually(() => mq.messages.slice(before).some((m) => m.topic === 'ck/status' && m.text === 'offline'));
    await eventually(() => mq.messages.slice(before).some((m) => m.topic === 'ck/status' && m.text === 'online'), 8000);
    // A clean stop says offline too (no will is sent then).
    await t.stop();
    await mq.until('ck/status', (m) => m.text === 'offline');
  });

  it('gives a charger with a hostile id a topic-safe, bounded, distinct name', async () => {
    const { t, mq } = await setup();
    const hostile = 'x+y:|@*.=Z-'.padEnd(48, '+');
    await bootedCharger(t, hostile, 1);
    await bootedCharger(t, 'x_y', 1);
    const slug = slugOf(hostile);
    expect(slug).toMatch(/^[A-Za-z0-9_-]{1,49}$/);
    expect(slug).not.toBe(slugOf('x+y'));
    const cfg = await mq.until(`ha/sensor/chargekeeper_${slug}/c1_status/config`, (m) => m.json !== null);
    expect(cfg.json.state_topic).toBe(`ck/${slug}/1/state`);
    expect(cfg.json.device.name).toBe(`Charger ${hostile}`);
    await mq.until('ha/sensor/chargekeeper_x_y/c1_status/config', (m) => m.json !== null);
    for (const m of mq.messages) expect(m.topic.split('/').every((level) => /^[A-Za-z0-9_-]+$/.test(level)), m.topic).toBe(true);
  });

  it('empties the config topics of a removed charger, so Home Assistant deletes its entities', async () => {
    const { t, broker, mq } = await setup();
    await bootedCharger(t, 'HA-GONE', 1);
    await bootedCharger(t, 'HA-STAYS', 1);
    await eventually(() => mq.configs('ha', 'HA-GONE').size === 8 && mq.configs('ha', 'HA-STAYS').size === 8);
    const topics = [...mq.configs('ha', 'HA-GONE').keys()];
    expect((await t.api('DELETE', '/chargers/HA-GONE')).status).toBe(204);
    await eventually(() => mq.configs('ha', 'HA-GONE').size === 0);
    for (const topic of topics) expect(mq.latest(topic)!.text).toBe('');
    // Nothing of it is retained any more: a fresh subscriber (HA restarting) sees only the charger that stays.
    await sleep(100);
    const late = await watch(broker.url);
    peers.defer(() => late.close());
    await eventually(() => late.configs('ha', 'HA-STAYS').size === 8);
    expect(late.messages.filter((m) => m.topic.includes('HA-GONE'))).toEqual([]);
    expect((await t.api('GET', '/homeassistant/status')).body.announcedChargers).toBe(1);
  });

  it('clears a charger removed while the broker was away once it is back', async () => {
    const port = await freePort();
    let broker = await startHaBroker({ port });
    const t = await apps.start({ config: { plugins: { homeassistant: haConfig(broker.url) } } });
    await bootedCharger(t, 'HA-AWAY', 1);
    await eventually(async () => (await t.api('GET', '/homeassistant/status')).body.announcedChargers === 1);
    // The broker keeps retained messages in memory: this one forgets them, so the test watches for the empties.
    await broker.close();
    expect((await t.api('DELETE', '/chargers/HA-AWAY')).status).toBe(204);
    broker = await startHaBroker({ port });
    peers.defer(() => broker.close());
    const mq = await watch(broker.url);
    peers.defer(() => mq.close());
    await mq.until('ha/sensor/chargekeeper_HA-AWAY/c1_status/config', (m) => m.text === '', 10_000);
    await eventually(async () => (await t.api('GET', '/homeassistant/status')).body.announcedChargers === 0);
  });

  it('keeps retrying a broker that is down at start, reports it, and announces once it is up', async () => {
    const port = await freePort();
    const t = await apps.start({ config: { plugins: { homeassistant: haConfig(`mqtt://127.0.0.1:${port}`, { username: 'ck', password: 'pw-never-shown' }) } } });
    await bootedCharger(t, 'HA-LATE', 1);
    const down = await eventually(async () => {
      const s = (await t.api('GET', '/homeassistant/status')).body;
      return s.lastError ? s : undefined;
    });
    expect(down).toMatchObject({ connected: false, announcedChargers: 0, broker: `mqtt://127.0.0.1:${port}` });
    expect((await t.api('GET', '/plugins')).body.find((p: { name: string }) => p.name === 'homeassistant')).toMatchObject({ state: 'running' });
    const auth = { username: 'ck', password: 'pw-never-shown' };
    const broker = await startHaBroker({ port, auth });
    peers.defer(() => broker.close());
    const mq = await watch(broker.url, auth);
    peers.defer(() => mq.close());
    await mq.until('ha/sensor/chargekeeper_HA-LATE/c1_status/config', (m) => m.json !== null, 10_000);
    const up = (await t.api('GET', '/homeassistant/status')).body;
    expect(up).toMatchObject({ connected: true, lastError: null });
    await eventually(async () => (await t.api('GET', '/homeassistant/status')).body.announcedChargers === 1);
    const settings = await t.api('GET', '/plugins/homeassistant/settings');
    for (const text of [JSON.stringify(up), JSON.stringify(settings.body), ...t.logs]) expect(text).not.toContain('pw-never-shown');
  });

  it('moves a running session\'s duration on without new readings', async () => {
    const { t, mq } = await setup();
    const cp = await bootedCharger(t, 'HA-DUR', 1);
    await cp.call('StartTransaction', { connectorId: 1, idTag: 'C1', meterStart: 0, timestamp: new Date().toISOString() });
    const first = await mq.until('ck/HA-DUR/1/state', (m) => m.json.session.active === true);
    await t.clock.advance(10 * 60_000);
    const later = await mq.until('ck/HA-DUR/1/state', (m) => m.json.session.durationS >= first.json.session.durationS + 600);
    expect(later.json.session.active).toBe(true);
  });

  it('announces a pending charger only once an installer approves it', async () => {
    const broker = await startHaBroker();
    peers.defer(() => broker.close());
    const t = await apps.start({ config: { ocpp: { unknownChargers: 'pending' }, plugins: { homeassistant: haConfig(broker.url) } } });
    const mq = await watch(broker.url);
    peers.defer(() => mq.close());
    const cp = await t.chargePoint('HA-NEW');
    expect((await cp.boot()).status).toBe('Pending');
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    await t.app.bus.idle();
    await sleep(300);
    expect(mq.messages.filter((m) => m.topic.includes('HA-NEW'))).toEqual([]);
    expect((await t.api('POST', '/chargers/HA-NEW/approve', { body: {} })).status).toBe(200);
    await mq.until('ha/sensor/chargekeeper_HA-NEW/c1_status/config', (m) => m.json !== null);
  });

  it('announces again when Home Assistant says it is back online', async () => {
    const { t, mq } = await setup();
    await bootedCharger(t, 'HA-RE', 1);
    const topic = 'ha/sensor/chargekeeper_HA-RE/c1_power/config';
    await mq.until(topic, (m) => m.json !== null);
    await sleep(200);
    const count = () => mq.messages.filter((m) => m.topic === topic).length;
    const before = count();
    await mq.publish('ha/status', 'online');
    await eventually(() => count() > before);
    // Anything else there is ignored.
    const after = count();
    await mq.publish('ha/status', 'x'.repeat(5000));
    await sleep(300);
    expect(count()).toBe(after);
  });
});
