import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/config.js';
import { eventually, sleep, startApp, type TestApp, type TestChargePoint, useApp, usePeers } from '../../tests/kit/index.js';
import { boot201, sendTx, station } from '../../tests/ocpp/v201-kit.js';
import { MIN_INTERVAL_MS } from './commands.js';
import { bootedCharger, haConfig, startHaBroker, watch, type Watcher } from './test-kit.js';

const apps = useApp();
const peers = usePeers();

/** A charger that records every call the appliance sends it and accepts them. */
async function obedient(t: TestApp, id: string) {
  const cp = await bootedCharger(t, id, 1);
  const calls: Array<{ method: string; params: Record<string, unknown> }> = [];
  for (const method of ['RemoteStartTransaction', 'RemoteStopTransaction', 'UnlockConnector', 'Reset']) {
    cp.handle(method, ({ params }) => {
      calls.push({ method, params });
      return { status: method === 'UnlockConnector' ? 'Unlocked' : 'Accepted' };
    });
  }
  return { cp, calls };
}

async function setup(commands: Record<string, unknown>): Promise<{ t: TestApp; mq: Watcher }> {
  const broker = await startHaBroker();
  peers.defer(() => broker.close());
  const t = await apps.start({ config: { plugins: { homeassistant: haConfig(broker.url, { commands }) } } });
  const mq = await watch(broker.url);
  peers.defer(() => mq.close().catch(() => undefined));
  await mq.until('ck/status', (m) => m.text === 'online');
  return { t, mq };
}

type Entry = { action: string; target: string; detail: any }; // any: audit details vary by action
const audit = async (t: TestApp) => (await t.api('GET', '/audit?actor=homeassistant')).body as Entry[];
/** The audit entries of actor homeassistant once there are this many. */
const audited = async (t: TestApp, n: number): Promise<Entry[]> => {
  await eventually(async () => (await audit(t)).length === n);
  return audit(t);
};

describe('homeassistant buttons', () => {
  it('sends stop, unlock, restart and start from the buttons to the charger, audited as homeassistant', async () => {
    const { t, mq } = await setup({ enabled: true, idTag: 'HA-CARD' });
    const { cp, calls } = await obedient(t, 'HB-1');
    const stop = await mq.until('ha/button/chargekeeper_HB-1/c1_stop/config', (m) => m.json !== null);
    expect(stop.json).toMatchObject({ command_topic: 'ck/HB-1/1/cmd/stop', payload_press: 'PRESS' });
    const reset = await mq.until('ha/button/chargekeeper_HB-1/reset/config', (m) => m.json !== null);
    expect(reset.json).toMatchObject({ command_topic: 'ck/HB-1/0/cmd/reset', device_class: 'restart' });
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'CARD-1', meterStart: 0, timestamp: new Date().toISOString() }) as { transactionId: number };
    await t.app.bus.idle();

    await mq.publish('ck/HB-1/1/cmd/stop', 'PRESS');
    await eventually(() => calls.length === 1);
    expect(calls[0]).toEqual({ method: 'RemoteStopTransaction', params: { transactionId } });
    await sleep(MIN_INTERVAL_MS + 100);
    await mq.publish('ck/HB-1/1/cmd/unlock', 'PRESS');
    await eventually(() => calls.length === 2);
    expect(calls[1]).toEqual({ method: 'UnlockConnector', params: { connectorId: 1 } });
    await sleep(MIN_INTERVAL_MS + 100);
    await mq.publish('ck/HB-1/0/cmd/reset', 'PRESS');
    await eventually(() => calls.length === 3);
    expect(calls[2]).toEqual({ method: 'Reset', params: { type: 'Soft' } });
    await cp.call('StopTransaction', { transactionId, meterStop: 100, timestamp: new Date().toISOString() });
    await sleep(MIN_INTERVAL_MS + 100);
    await mq.publish('ck/HB-1/1/cmd/start', 'PRESS');
    await eventually(() => calls.length === 4);
    expect(calls[3]).toEqual({ method: 'RemoteStartTransaction', params: { connectorId: 1, idTag: 'HA-CARD' } });

    const entries = await audited(t, 4);
    expect(entries.map((e) => [e.action, e.target]).reverse()).toEqual([
      ['command.RemoteStopTransaction', 'HB-1'], ['command.UnlockConnector', 'HB-1'], ['command.Reset', 'HB-1'], ['command.RemoteStartTransaction', 'HB-1'],
    ]);
    expect(entries[0]!.detail).toMatchObject({ response: { status: 'Accepted' } });
  });

  it('sends the buttons to an OCPP 2.0.1 station in its own version', async () => {
    const { t, mq } = await setup({ enabled: true, idTag: 'HA-CARD' });
    const cp = await station(t, 'HB-201');
    await boot201(cp);
    await cp.call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
    const calls: Array<{ method: string; params: Record<string, unknown> }> = [];
    for (const method of ['RequestStartTransaction', 'RequestStopTransaction', 'UnlockConnector']) {
      cp.handle(method, ({ params }) => { calls.push({ method, params }); return { status: method === 'UnlockConnector' ? 'Unlocked' : 'Accepted' }; });
    }
    await mq.until('ha/button/chargekeeper_HB-201/c1_stop/config', (m) => m.json !== null);
    await sendTx(cp, { eventType: 'Started', transactionId: 'ha-tx-1', seqNo: 0, timestamp: new Date().toISOString(), idTag: 'CARD-1', evseId: 1 });
    await t.app.bus.idle();

    await mq.publish('ck/HB-201/1/cmd/stop', 'PRESS');
    await eventually(() => calls.length === 1);
    await sleep(MIN_INTERVAL_MS + 100);
    await mq.publish('ck/HB-201/1/cmd/unlock', 'PRESS');
    await eventually(() => calls.length === 2);
    await sleep(MIN_INTERVAL_MS + 100);
    await mq.publish('ck/HB-201/1/cmd/start', 'PRESS');
    await eventually(() => calls.length === 3);
    expect(calls).toEqual([
      { method: 'RequestStopTransaction', params: { transactionId: 'ha-tx-1' } },
      { method: 'UnlockConnector', params: { evseId: 1, connectorId: 1 } },
      { method: 'RequestStartTransaction', params: { idToken: { idToken: 'HA-CARD', type: 'ISO14443' }, remoteStartId: expect.any(Number), evseId: 1 } },
    ]);
    expect((await audited(t, 3)).map((e) => e.action).reverse()).toEqual(['command.RequestStopTransaction', 'command.UnlockConnector', 'command.RequestStartTransaction']);
  });

  it('announces no buttons and ignores presses when commands are off', async () => {
    const { t, mq } = await setup({});
    const { cp, calls } = await obedient(t, 'HB-OFF');
    await mq.until('ha/sensor/chargekeeper_HB-OFF/c1_status/config', (m) => m.json !== null);
    await cp.call('StartTransaction', { connectorId: 1, idTag: 'CARD-1', meterStart: 0, timestamp: new Date().toISOString() });
    await t.app.bus.idle();
    await mq.publish('ck/HB-OFF/1/cmd/stop', 'PRESS');
    await mq.publish('ck/HB-OFF/0/cmd/reset', 'PRESS');
    await sleep(500);
    expect(calls).toEqual([]);
    expect(await audit(t)).toEqual([]);
    expect(mq.messages.filter((m) => m.topic.startsWith('ha/button/'))).toEqual([]);
  });

  it('refuses presses when the configured role may not send commands, and audits the refusal', async () => {
    const { t, mq } = await setup({ enabled: true, idTag: 'HA-CARD', role: 'viewer' });
    const { calls } = await obedient(t, 'HB-VIEW');
    await mq.until('ha/button/chargekeeper_HB-VIEW/c1_unlock/config', (m) => m.json !== null);
    await mq.publish('ck/HB-VIEW/1/cmd/unlock', 'PRESS');
    const entries = await audited(t, 1);
    expect(entries).toEqual([expect.objectContaining({ action: 'command.unlock', target: 'HB-VIEW', detail: { refused: 'role viewer may not send commands', role: 'viewer' } })]);
    await sleep(200);
    expect(calls).toEqual([]);
  });

  it('lets one press per charger through every 2 s, and ignores unknown topics and payloads', async () => {
    const { t, mq } = await setup({ enabled: true, idTag: 'HA-CARD' });
    const one = await obedient(t, 'HB-FLOOD');
    const other = await obedient(t, 'HB-CALM');
    await mq.until('ha/button/chargekeeper_HB-CALM/c1_unlock/config', (m) => m.json !== null);
    // Not ours, or not a press: nothing happens, and nothing uses up the charger's turn.
    await mq.publish('ck/HB-FLOOD/1/cmd/unlock', 'PRESS'.repeat(20));
    await mq.publish('ck/HB-FLOOD/1/cmd/unlock', 'NOPE');
    await mq.publish('ck/HB-FLOOD/1/cmd/explode', 'PRESS');
    await mq.publish('ck/HB-FLOOD/7/cmd/unlock', 'PRESS');
    await mq.publish('ck/HB-FLOOD/1/cmd/reset', 'PRESS');
    await mq.publish('ck/HB-FLOOD/1/cmd/unlock/more', 'PRESS');
    await mq.publish('ck/NOBODY/1/cmd/unlock', 'PRESS');
    await sleep(300);
    expect(one.calls).toEqual([]);
    await Promise.all(Array.from({ length: 30 }, () => mq.publish('ck/HB-FLOOD/1/cmd/unlock', 'PRESS')));
    await mq.publish('ck/HB-CALM/1/cmd/unlock', 'PRESS');
    await eventually(() => other.calls.length === 1);
    await sleep(500);
    expect(one.calls.map((c) => c.method)).toEqual(['UnlockConnector']);
    expect((await t.api('GET', '/homeassistant/status')).body.commands.droppedByRateLimit).toBe(29);
    await sleep(MIN_INTERVAL_MS);
    await mq.publish('ck/HB-FLOOD/1/cmd/unlock', 'PRESS');
    await eventually(() => one.calls.length === 2);
  });

  it('refuses a stop with no session running, without bothering the charger', async () => {
    const { t, mq } = await setup({ enabled: true, idTag: 'HA-CARD' });
    const { calls } = await obedient(t, 'HB-IDLE');
    await mq.until('ha/button/chargekeeper_HB-IDLE/c1_stop/config', (m) => m.json !== null);
    await mq.publish('ck/HB-IDLE/1/cmd/stop', 'PRESS');
    const entries = await audited(t, 1);
    expect(entries[0]).toMatchObject({ action: 'command.stop', detail: { refused: 'no session is running on connector 1' } });
    expect(calls).toEqual([]);
  });

  it('takes the buttons away when commands are turned off', async () => {
    const broker = await startHaBroker();
    peers.defer(() => broker.close());
    const t = await apps.start({ config: { plugins: { homeassistant: haConfig(broker.url, { commands: { enabled: true, idTag: 'HA-CARD' } }) } } });
    const mq = await watch(broker.url);
    peers.defer(() => mq.close());
    await bootedCharger(t, 'HB-LATER', 1);
    await mq.until('ha/button/chargekeeper_HB-LATER/c1_start/config', (m) => m.json !== null);
    await t.restart({ plugins: { homeassistant: haConfig(broker.url) } });
    await mq.until('ha/button/chargekeeper_HB-LATER/c1_start/config', (m) => m.text === '', 8000);
    for (const b of ['c1_stop', 'c1_unlock', 'reset']) expect(mq.latest(`ha/button/chargekeeper_HB-LATER/${b}/config`)!.text).toBe('');
    expect(mq.configs('ha', 'HB-LATER').size).toBe(8);
  });

  it('stops startup naming commands.idTag when buttons are on without a card to start with', async () => {
    const err = await startApp({ config: { plugins: { homeassistant: haConfig('mqtt://127.0.0.1:1', { commands: { enabled: true } }) } } }).then(
      async (t) => { await t.stop(); return null; },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      { path: 'plugins.homeassistant.commands.idTag', message: 'is required when commands.enabled is true (the card a start from Home Assistant charges with)' },
    ]);
  });
});
