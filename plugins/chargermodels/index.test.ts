import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/config.js';
import { createUser, eventually, sleep, type TestApp, type TestChargePoint, useApp } from '../../tests/kit/index.js';
import { boot201, station } from '../../tests/ocpp/v201-kit.js';

// The site's own catalogue folder (plugins.chargermodels.dir): one made-up entry for the test charger model.
const site = fileURLToPath(new URL('./fixtures/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'chargermodels-bad-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const config = (over: Record<string, unknown> = {}, ocpp: Record<string, unknown> = {}, plugins: Record<string, unknown> = {}) => ({
  ocpp: { unknownChargers: 'accept', ...ocpp },
  plugins: { chargermodels: { dir: site, ...over }, ...plugins },
});

const apps = useApp();
let t: TestApp;

interface Call { key: string; value: string }

/** A test charger of the catalogued model that records ChangeConfiguration calls; it rejects WebSocketPingInterval. */
async function tm1(id: string, firmwareVersion = '1.4.2', model = 'TM-1 Plus'): Promise<{ cp: TestChargePoint; calls: Call[]; boot: () => Promise<string> }> {
  const cp = await t.chargePoint(id);
  const calls: Call[] = [];
  cp.handle('ChangeConfiguration', ({ params }) => {
    calls.push(params);
    return { status: params.key === 'WebSocketPingInterval' ? 'Rejected' : params.key === 'MeterValuesSampledData' ? 'RebootRequired' : 'Accepted' };
  });
  cp.handle('TriggerMessage', () => ({ status: 'Accepted' }));
  const boot = async () => (await cp.boot({ chargePointVendor: 'TestVendor', chargePointModel: model, firmwareVersion })).status;
  return { cp, calls, boot };
}

const SENT = [
  { key: 'MeterValueSampleInterval', value: '60' },
  { key: 'MeterValuesSampledData', value: 'Energy.Active.Import.Register,Voltage' },
  { key: 'WebSocketPingInterval', value: '30' },
];

/** Waits until the charger's page shows an answer for every key sent. */
async function settled(id: string, answered = 4) {
  return eventually(async () => {
    const res = await t.api('GET', `/chargermodels/chargers/${id}`);
    const done = res.body.configuration.filter((k: { status: string | null }) => k.status !== null && k.status !== 'Failed');
    return done.length === answered ? res.body : null;
  });
}

describe('chargermodels', () => {
  it('sends a catalogued model its configuration once when it is adopted and records each answer', async () => {
    t = await apps.start({ config: config() });
    const { calls, boot } = await tm1('CM1');
    expect(await boot()).toBe('Accepted');
    const page = await settled('CM1');
    expect(calls).toEqual(SENT);
    expect(page.entry).toMatchObject({ id: 'testvendor-tm1', file: 'plugins/chargermodels/fixtures/testvendor-tm1.yaml' });
    expect(page.configuration.map((k: { key: string; status: string }) => [k.key, k.status])).toEqual([
      ['MeterValueSampleInterval', 'Accepted'], ['MeterValuesSampledData', 'RebootRequired'],
      ['WebSocketPingInterval', 'Rejected'], ['AuthorizeRemoteTxRequests', 'Skipped'],
    ]);
    expect(page.rebootRequired).toEqual(['MeterValuesSampledData']);
    expect((await t.api('GET', '/chargermodels/chargers')).body).toEqual([expect.objectContaining({ chargerId: 'CM1', entry: 'testvendor-tm1', keys: 4, answered: 3 })]);
    expect(page.configuration[3].applied.detail).toMatch(/security setting/);
    const audit = await t.api('GET', '/audit?action=chargermodels.applied');
    expect(audit.body).toEqual([expect.objectContaining({ actor: 'chargermodels', target: 'CM1' })]);
    expect(audit.body[0].detail.results.map((r: { status: string }) => r.status)).toEqual(['Accepted', 'RebootRequired', 'Rejected', 'Skipped']);

    // A second boot, and a restart of the appliance with the charger back, send nothing again.
    await boot();
    await t.restart(config());
    const again = await tm1('CM1');
    expect(await again.boot()).toBe('Accepted');
    await sleep(800);
    expect(calls).toHaveLength(3);
    expect(again.calls).toEqual([]);
    expect((await t.api('GET', '/audit?action=chargermodels.applied')).body).toHaveLength(1);
  });

  it('gives a charger that was offline when approved its configuration on its next boot', async () => {
    t = await apps.start({ config: config({}, { unknownChargers: 'pending' }) });
    const first = await tm1('CM2');
    expect(await first.boot()).toBe('Pending');
    await first.cp.close({ code: 1000 });
    await eventually(async () => !(await t.api('GET', '/chargers/CM2')).body.online);
    expect((await t.api('POST', '/chargers/CM2/approve')).status).toBe(200);
    await sleep(500);
    const back = await tm1('CM2');
    expect(await back.boot()).toBe('Accepted');
    await settled('CM2');
    expect(first.calls).toEqual([]);
    expect(back.calls).toEqual(SENT);
  });

  it('configures a charger adopted before the plugin was enabled when it reconnects, without a boot', async () => {
    t = await apps.start({ config: { ocpp: { unknownChargers: 'accept' }, plugins: {} } });
    const before = await tm1('CM5');
    expect(await before.boot()).toBe('Accepted');
    await t.restart(config());
    const back = await tm1('CM5');
    await settled('CM5');
    expect(back.calls).toEqual(SENT);
    expect(before.calls).toEqual([]);
  });

  it('sends it when an operator approves a connected pending charger', async () => {
    t = await apps.start({ config: config({}, { unknownChargers: 'pending' }) });
    const { calls, boot } = await tm1('CM3');
    expect(await boot()).toBe('Pending');
    await sleep(500);
    expect(calls).toEqual([]);
    expect((await t.api('POST', '/chargers/CM3/approve')).status).toBe(200);
    await settled('CM3');
    expect(calls).toEqual(SENT);
  });

  it('sends everything again when an installer asks, and only then', async () => {
    t = await apps.start({ config: config({}, {}, { users: {} }) });
    const { cp, calls, boot } = await tm1('CM4');
    await boot();
    await settled('CM4');
    await createUser(t, 'tech', 'technician', 'tech-password-1');
    const tech = await t.login('tech', 'tech-password-1');
    expect((await t.api('POST', '/chargermodels/chargers/CM4/apply', { token: tech })).status).toBe(403);
    expect((await t.api('GET', '/chargermodels/chargers/CM4', { token: tech })).status).toBe(200);
    const res = await t.api('POST', '/chargermodels/chargers/CM4/apply');
    expect(res.status).toBe(200);
    expect(res.body.entry).toBe('testvendor-tm1');
    expect(res.body.results.map((r: { key: string; status: string; by: string }) => [r.key, r.status, r.by])).toEqual([
      ['MeterValueSampleInterval', 'Accepted', 'admin'], ['MeterValuesSampledData', 'RebootRequired', 'admin'],
      ['WebSocketPingInterval', 'Rejected', 'admin'], ['AuthorizeRemoteTxRequests', 'Skipped', 'admin'],
    ]);
    expect(calls).toEqual([...SENT, ...SENT]);
    const audit = await t.api('GET', '/audit?target=CM4');
    expect(audit.body.map((a: { actor: string; action: string }) => `${a.actor} ${a.action}`)).toEqual(expect.arrayContaining([
      'admin chargermodels.apply', 'chargermodels chargermodels.applied',
    ]));
    await cp.close({ code: 1000 });
    await eventually(async () => !(await t.api('GET', '/chargers/CM4')).body.online);
    const offline = await t.api('POST', '/chargermodels/chargers/CM4/apply');
    expect(offline.status).toBe(409);
    expect(offline.body.message).toMatch(/offline/);
    expect((await t.api('POST', '/chargermodels/chargers/NOPE/apply')).status).toBe(404);
    expect((await t.api('GET', '/chargermodels/chargers/NOPE')).status).toBe(404);
  });

  it('sends nothing to a model the catalogue does not know', async () => {
    t = await apps.start({ config: config() });
    const cp = await t.chargePoint('OTHER');
    const calls: unknown[] = [];
    cp.handle('ChangeConfiguration', ({ params }) => { calls.push(params); return { status: 'Accepted' }; });
    expect((await cp.boot({ chargePointVendor: 'OtherVendor', chargePointModel: 'TM-1' })).status).toBe('Accepted');
    await sleep(800);
    expect(calls).toEqual([]);
    const page = await t.api('GET', '/chargermodels/chargers/OTHER');
    expect(page.body).toMatchObject({ entry: null, configuration: [], knownBugs: [] });
    const apply = await t.api('POST', '/chargermodels/chargers/OTHER/apply');
    expect(apply.status).toBe(409);
    expect(apply.body.message).toMatch(/no catalogue entry matches OTHER/);
  });

  it('matches no entry by accident for odd or over-long names', async () => {
    t = await apps.start({ config: config({}, { lenient: { everyCharger: true } }) });
    const odd: Array<[string, string]> = [
      ['TestVendor*', 'TM-1'], ['.*', 'TM-1'], ['\u212AestVendor', 'TM-1'], ['TestVendor\u0000', 'TM-1'],
      ['ＴestVendor', 'TM-1'], ['TestVendorTestVendorTestVendor', 'TM-1'], ['TestVendor', 'X'.repeat(40)], ['TestVendor', 'xTM-1'],
    ];
    const calls: unknown[] = [];
    for (const [i, [vendor, model]] of odd.entries()) {
      // Not strict: the test client would refuse to send the over-long ones itself.
      const cp = await t.chargePoint(`ODD${i}`, { strict: false });
      cp.handle('ChangeConfiguration', ({ params }) => { calls.push(params); return { status: 'Accepted' }; });
      expect((await cp.boot({ chargePointVendor: vendor, chargePointModel: model })).status).toBe('Accepted');
    }
    // The same model in another case and with padding is the catalogued one.
    const control = await tm1('CTRL', '1.0', ' tm-1 plus ');
    await control.cp.boot({ chargePointVendor: 'testvendor', chargePointModel: ' tm-1 plus ' });
    await eventually(() => control.calls.length === SENT.length);
    await sleep(500);
    expect(calls).toEqual([]);
    const list = await t.api('GET', '/chargermodels/chargers');
    expect(list.body).toHaveLength(odd.length + 1);
    list.body.splice(list.body.findIndex((c: { chargerId: string }) => c.chargerId === 'CTRL'), 1);
    expect(list.body.every((c: { entry: string | null; vendor: string }) => c.entry === null && c.vendor.length <= 20)).toBe(true);
  });

  it('lists the known bug of a matching firmware and not of a fixed one', async () => {
    t = await apps.start({ config: config({ applyOnAdoption: false }, {}, { diagnostics: {} }) });
    const old = await tm1('OLDFW', '1.9.3');
    await old.boot();
    const fixed = await tm1('NEWFW', '2.0.1');
    await fixed.boot();
    const oldPage = (await t.api('GET', '/chargermodels/chargers/OLDFW')).body;
    expect(oldPage.knownBugs).toEqual([expect.objectContaining({ summary: 'Forgets its running session after a power cut.', advice: 'Update to firmware 2.0 or later.' })]);
    expect((await t.api('GET', '/chargermodels/chargers/NEWFW')).body.knownBugs).toEqual([]);
    expect((await t.api('GET', '/chargermodels/chargers')).body.find((c: { chargerId: string }) => c.chargerId === 'OLDFW')).toMatchObject({ entry: 'testvendor-tm1', knownBugs: 1 });
    // applyOnAdoption: false sends nothing by itself.
    await sleep(500);
    expect(old.calls).toEqual([]);
    // Diagnostics shows it as a finding, which clears when the charger boots with the fixed firmware.
    const findings = async () => (await t.api('GET', '/diagnostics/findings?check=known-firmware-bug&state=active')).body
      .filter((f: { check: string }) => f.check === 'known-firmware-bug');
    const [finding] = await eventually(async () => ((await findings()).length ? findings() : null));
    expect(finding).toMatchObject({ chargerId: 'OLDFW', severity: 'info', message: expect.stringContaining('Forgets its running session after a power cut.') });
    expect(finding.action).toBe('Update to firmware 2.0 or later.');
    await old.cp.boot({ chargePointVendor: 'TestVendor', chargePointModel: 'TM-1 Plus', firmwareVersion: '2.0.0' });
    await eventually(async () => (await findings()).length === 0);
    expect((await t.api('GET', '/chargermodels/chargers/OLDFW')).body.knownBugs).toEqual([]);
    const catalogue = (await t.api('GET', '/chargermodels')).body;
    expect(catalogue.map((e: { id: string }) => e.id)).toEqual(expect.arrayContaining(['keba-kc-p30', 'alfen-eve', 'testvendor-tm1']));
  });

  it('reads a catalogued model\'s unitless energy register as kWh, and another model\'s as Wh', async () => {
    t = await apps.start({ config: config({ applyOnAdoption: false }) });
    const mine = await tm1('UNIT1');
    await mine.boot();
    const other = await t.chargePoint('UNIT2');
    await other.boot();
    const reading = { timestamp: '2026-12-01T10:00:00Z', sampledValue: [{ value: '12.5', measurand: 'Energy.Active.Import.Register' }] };
    await mine.cp.call('MeterValues', { connectorId: 1, meterValue: [reading] });
    await other.call('MeterValues', { connectorId: 1, meterValue: [reading] });
    await t.app.bus.idle();
    const energy = (id: string) => t.seen('meter.sampled').find((s) => s.chargerId === id)?.energyImportWh;
    expect(energy('UNIT1')).toBe(12_500);
    expect(energy('UNIT2')).toBe(12.5);
  });

  it('sends a security key only where the entry flags it security: true, and says so at start', async () => {
    const flagged = mkdtempSync(join(scratch, 'flagged-'));
    writeFileSync(join(flagged, 'secvendor-s1.yaml'), [
      'id: secvendor-s1', 'name: SecVendor S1', 'vendor: SecVendor', 'model: S1',
      'adopt:', '  configuration:',
      '    - { key: AuthorizeRemoteTxRequests, value: "true", security: true, why: "remote starts go through the site\'s own card check" }',
    ].join('\n'));
    t = await apps.start({ config: { ocpp: { unknownChargers: 'accept' }, log: { level: 'warn' }, plugins: { chargermodels: { dir: flagged } } } });
    expect(t.logs.join('\n')).toContain('secvendor-s1: AuthorizeRemoteTxRequests');
    const cp = await t.chargePoint('SEC1');
    const calls: Call[] = [];
    cp.handle('ChangeConfiguration', ({ params }) => { calls.push(params); return { status: 'Accepted' }; });
    await cp.boot({ chargePointVendor: 'SecVendor', chargePointModel: 'S1' });
    await eventually(() => calls.length === 1);
    expect(calls).toEqual([{ key: 'AuthorizeRemoteTxRequests', value: 'true' }]);
  });

  it('refuses to start with a bad catalogue file, naming the file and the key', async () => {
    const bad = mkdtempSync(join(scratch, 'bad-'));
    writeFileSync(join(bad, 'acme-x1.yaml'), 'id: acme-x1\nname: Acme X1\nvendor: Acme\nmodel: X1\nadopt:\n  configuration:\n    - { key: "Meter Value Interval", value: "60", why: every minute for diagnostics }\n');
    const err = await apps.start({ config: config({ dir: bad }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([{
      path: 'plugins.chargermodels.dir',
      message: expect.stringMatching(new RegExp(`^${join(bad, 'acme-x1.yaml')}: adopt\\.configuration\\[0\\]\\.key: expected an OCPP configuration key`)),
    }]);
  });

  it('sends an OCPP 2.0.1 model its Component.Variable keys, and records an unknown variable or a key it cannot take as refused, with why', async () => {
    const dir = mkdtempSync(join(scratch, 'v201-'));
    writeFileSync(join(dir, 'vendor201-model201.yaml'), [
      'id: vendor201-model201', 'name: A 2.0.1 station', 'vendor: Vendor201', 'model: Model201', 'adopt:', '  configuration:',
      '    - { key: OCPPCommCtrlr.HeartbeatInterval, value: "120", why: a heartbeat every two minutes }',
      '    - { key: "SampledDataCtrlr.TxUpdatedMeasurands[Extra]", value: "Voltage", why: voltage during sessions }',
      '    - { key: MeterValueSampleInterval, value: "60", why: written the 1.6 way by mistake }',
      '    - { key: SecurityCtrlr.SecurityProfile, value: "2", why: "not flagged as security, so never sent" }',
      '',
    ].join('\n'));
    t = await apps.start({ config: config({ dir }) });
    const cp = await station(t, 'CS201');
    const calls: unknown[] = [];
    cp.handle('SetVariables', ({ params }) => {
      const d = params.setVariableData[0];
      calls.push(`${d.component.name}.${d.variable.name}${d.variable.instance ? `[${d.variable.instance}]` : ''}=${d.attributeValue}`);
      const known = d.variable.instance === undefined;
      return { setVariableResult: [{ attributeStatus: known ? 'Accepted' : 'UnknownVariable', component: d.component, variable: d.variable,
        ...(known ? {} : { attributeStatusInfo: { reasonCode: 'UnknownInstance' } }) }] };
    });
    await boot201(cp);
    const page = await settled('CS201');
    expect(calls).toEqual(['OCPPCommCtrlr.HeartbeatInterval=120', 'SampledDataCtrlr.TxUpdatedMeasurands[Extra]=Voltage']);
    expect(page.configuration.map((k: { key: string; status: string; applied: { detail: string | null } }) => [k.key, k.status, k.applied.detail])).toEqual([
      ['OCPPCommCtrlr.HeartbeatInterval', 'Accepted', null],
      ['SampledDataCtrlr.TxUpdatedMeasurands[Extra]', 'Rejected', 'the charger answered UnknownVariable: UnknownInstance'],
      ['MeterValueSampleInterval', 'Rejected', 'not sent: key: "MeterValueSampleInterval" is not an OCPP 2.0.1 key: write Component.Variable, e.g. OCPPCommCtrlr.HeartbeatInterval'],
      ['SecurityCtrlr.SecurityProfile', 'Skipped', 'SecurityCtrlr.SecurityProfile is a security setting; the entry must say security: true to change it'],
    ]);
  });

  it('refuses a catalogue key written as Component.Variable that is not one', async () => {
    const bad = mkdtempSync(join(scratch, 'bad-'));
    writeFileSync(join(bad, 'acme-x2.yaml'), 'id: acme-x2\nname: Acme X2\nvendor: Acme\nmodel: X2\nadopt:\n  configuration:\n    - { key: "OCPPCommCtrlr.Heartbeat.Interval", value: "60", why: a heartbeat every minute }\n');
    const err = await apps.start({ config: config({ dir: bad }) }).catch((e: unknown) => e);
    expect((err as ConfigError).problems).toEqual([{
      path: 'plugins.chargermodels.dir',
      message: `${join(bad, 'acme-x2.yaml')}: adopt.configuration[0].key: "OCPPCommCtrlr.Heartbeat.Interval" has more than one dot: write Component.Variable, e.g. OCPPCommCtrlr.HeartbeatInterval`,
    }]);
  });
});
