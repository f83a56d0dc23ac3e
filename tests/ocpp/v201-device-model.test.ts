import { describe, expect, it } from 'vitest';
import { createUser, eventually, type TestApp, useApp } from '../kit/index.js';
import { MODEL, entry, refreshed, serveModel } from './v201-device-model-kit.js';
import { boot201, station } from './v201-kit.js';

/** How many rows a query finds (PostgreSQL counts as a string). */
const count = async (q: { count(c: { n: string }): PromiseLike<Array<Record<string, unknown>>> }) => Number((await q.count({ n: '*' }))[0]?.n);

let t: TestApp;
const apps = useApp();

describe('an OCPP 2.0.1 device model report', () => {
  it('is asked with a new requestId, stored part by part for that charger, and read back as components and a summary', async () => {
    t = await apps.start();
    const cp = await station(t, 'DM1');
    await boot201(cp);
    const { seen } = serveModel(cp);
    const progress: string[] = [];
    const off = t.app.bus.onAny((name, e) => { if (name === 'charger.deviceModel') progress.push((e as { state: string }).state); });

    const first = await refreshed(t, 'DM1');
    const second = await refreshed(t, 'DM1');
    off();
    expect(seen.reports).toEqual([
      { requestId: first.requestId, reportBase: 'FullInventory' }, { requestId: second.requestId, reportBase: 'FullInventory' },
    ]);
    expect(second.requestId).not.toBe(first.requestId);
    // 19 entries in parts of 7: two parts that say more follows, then the last one.
    expect(progress.slice(0, 4)).toEqual(['requested', 'receiving', 'receiving', 'finished']);

    const res = await t.api('GET', '/chargers/DM1/device-model');
    expect(res.status).toBe(200);
    expect(res.body.report).toMatchObject({ requestId: second.requestId, state: 'finished', parts: 3, variables: 20, answer: 'Accepted', requestedBy: 'admin' });
    expect(res.body.total).toBe(MODEL.length);
    const heartbeat = res.body.components.find((c: { name: string }) => c.name === 'OCPPCommCtrlr');
    expect(heartbeat.variables).toEqual([expect.objectContaining({
      name: 'HeartbeatInterval', unit: 's', dataType: 'integer', minLimit: 10, maxLimit: 86400,
      attributes: [{ type: 'Actual', value: '300', mutability: 'ReadWrite', answer: null }],
    })]);
    const evse2 = res.body.components.find((c: { name: string; evseId: number | null }) => c.name === 'EVSE' && c.evseId === 2);
    expect(evse2.variables[0]).toMatchObject({ name: 'Power', maxLimit: 11000 });
    // A secret is listed, never stored.
    const security = res.body.components.find((c: { name: string }) => c.name === 'SecurityCtrlr');
    expect(security.variables.find((v: { name: string }) => v.name === 'BasicAuthPassword').attributes[0]).toMatchObject({ value: null, mutability: 'WriteOnly' });
    expect(JSON.stringify(await t.app.db('device_model_variables'))).not.toContain('charger-secret-pw');

    const s = res.body.summary;
    expect(s).toMatchObject({
      maxPowerW: 22000, heartbeatIntervalS: 300, securityProfile: 2, txStartPoint: ['Authorized', 'EVConnected'], txStopPoint: ['EVConnected'],
      evses: [{ evseId: 1, maxPowerW: 11000, connectors: [{ connectorId: 1, type: 'cType2' }] }, { evseId: 2, maxPowerW: 11000, connectors: [{ connectorId: 1, type: 'cCCS2' }] }],
      smartCharging: { enabled: true, rateUnits: ['A', 'W'], maxProfiles: 16, maxStackLevel: 8 },
      localAuthList: { enabled: true, maxEntries: 500 }, authCache: { enabled: false }, iso15118: null,
      measurandsSampled: ['Energy.Active.Import.Register', 'Power.Active.Import'],
    });
    const words = Object.fromEntries(s.lines.map((l: { topic: string; text: string }) => [l.topic, l.text]));
    expect(words).toMatchObject({
      EVSEs: '2 EVSEs: EVSE 1 with connector 1 (cType2), up to 11 kW; EVSE 2 with connector 1 (cCCS2), up to 11 kW.',
      'Smart charging': 'Enabled: limits in A and W, up to 16 profiles, stack levels 0–8.',
      Security: 'Security profile 2: TLS with basic authentication.',
      Heartbeat: 'Every 5 min.',
      Authorization: 'Local authorization list enabled (up to 500 cards); authorization cache disabled.',
      Transactions: 'Starts a transaction at Authorized, EVConnected; stops it at EVConnected.',
      'ISO 15118': 'Not reported (no ISO15118Ctrlr).',
    });
    expect(words.Metering).toContain('Can measure Energy.Active.Import.Register, Power.Active.Import, Current.Import, Voltage, SoC.');

    // Filtered by component (any case) and paged by variable.
    const smart = await t.api('GET', '/chargers/DM1/device-model?component=smartcharging&limit=2&offset=1');
    expect(smart.body.total).toBe(4);
    expect(smart.body.components).toHaveLength(1);
    expect(smart.body.components[0].variables.map((v: { name: string }) => v.name)).toEqual(['Entries', 'ProfileStackLevel']);
  });

  it('drops what a new full report no longer lists', async () => {
    t = await apps.start();
    const cp = await station(t, 'DM2');
    await boot201(cp);
    serveModel(cp, MODEL);
    await refreshed(t, 'DM2');
    cp.removeHandler('GetBaseReport');
    cp.removeHandler('GetVariables');
    cp.removeHandler('SetVariables');
    serveModel(cp, MODEL.slice(0, 3), 10);
    await refreshed(t, 'DM2');
    expect((await t.api('GET', '/chargers/DM2/device-model')).body.total).toBe(3);
  });

  it('takes a report only from the charger it was asked of, refuses oversized and bad parts, and keeps the charger connected', async () => {
    t = await apps.start();
    const cp = await station(t, 'VICTIM');
    await boot201(cp);
    // It accepts, but sends nothing itself: the test sends each part.
    cp.handle('GetBaseReport', () => ({ status: 'Accepted' }));
    const evil = await station(t, 'EVIL', { strict: false });
    await boot201(evil);
    const { requestId } = (await t.api('POST', '/chargers/VICTIM/device-model/refresh')).body;
    const part = (over: Record<string, unknown> = {}) => ({
      requestId, generatedAt: new Date().toISOString(), seqNo: 0, tbc: true, reportData: [entry('OCPPCommCtrlr', 'HeartbeatInterval', [{ value: '1' }])], ...over,
    });

    // Another charger naming the victim's request: accepted, and neither model is written.
    expect(await evil.call('NotifyReport', part({ tbc: false }))).toEqual({});
    expect(await count(t.app.db('device_model_variables'))).toBe(0);
    expect((await t.api('GET', '/chargers/VICTIM/device-model')).body.report).toMatchObject({ state: 'requested', parts: 0 });
    expect(t.logs.some((l) => l.includes('NotifyReport from EVIL for request') && l.includes('no such report was asked of it'))).toBe(true);

    // Too many entries, a connector of an EVSE no charger has, a seqNo out of bounds, an attribute type twice, values OCPP does not allow.
    const many = Array.from({ length: 1001 }, (_, i) => entry('Vendor', `V${i}`, [{ value: '1' }]));
    const wrong = (over: Record<string, unknown>) => cp.call('NotifyReport', part(over)).catch((e: { rpcErrorCode: string }) => e.rpcErrorCode);
    expect(await wrong({ reportData: many })).toBe('OccurrenceConstraintViolation');
    expect(await wrong({ reportData: [entry({ name: 'EVSE', evse: { id: 9999 } }, 'Power', [{ value: '1' }])] })).toBe('PropertyConstraintViolation');
    expect(await wrong({ seqNo: 5000 })).toBe('PropertyConstraintViolation');
    expect(await wrong({ reportData: [entry('X', 'Y', [{ type: 'Actual', value: '1' }, { value: '2' }])] })).toBe('OccurrenceConstraintViolation');
    expect(await count(t.app.db('device_model_variables'))).toBe(0);

    // The charger itself in non-strict mode, sending what the schema forbids.
    await cp.close();
    const loose = await station(t, 'VICTIM', { strict: false });
    const tooLong = await loose.call('NotifyReport', part({ reportData: [entry('C'.repeat(51), 'V', [{ value: '1' }])] })).catch((e: { rpcErrorCode: string }) => e.rpcErrorCode);
    expect(tooLong).toBe('PropertyConstraintViolation');
    const badType = await loose.call('NotifyReport', part({ reportData: [entry('C', 'V', [{ type: 'Bogus', value: '1' }])] })).catch((e: { rpcErrorCode: string }) => e.rpcErrorCode);
    expect(badType).toBe('PropertyConstraintViolation');
    const notNumber = await loose.call('NotifyReport', part({ seqNo: 'zero' })).catch((e: { rpcErrorCode: string }) => e.rpcErrorCode);
    expect(notNumber).toBe('TypeConstraintViolation');

    // Still connected, and a good part is taken.
    expect(await loose.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect(await loose.call('NotifyReport', part({ tbc: false }))).toEqual({});
    const model = (await t.api('GET', '/chargers/VICTIM/device-model')).body;
    expect(model.report).toMatchObject({ state: 'finished', parts: 1, variables: 1 });
    // A part after the last one is ignored.
    expect(await loose.call('NotifyReport', part({ seqNo: 1, reportData: [entry('Late', 'Part', [{ value: '1' }])] }))).toEqual({});
    expect(await count(t.app.db('device_model_variables').where({ charger_id: 'VICTIM' }))).toBe(1);
    expect(await count(t.app.db('device_model_variables').where({ charger_id: 'EVIL' }))).toBe(0);
  });

  it('is deleted with its charger', async () => {
    t = await apps.start();
    const cp = await station(t, 'GONE');
    await boot201(cp);
    serveModel(cp);
    await refreshed(t, 'GONE');
    expect(await count(t.app.db('device_model_variables').where({ charger_id: 'GONE' }))).toBe(20);
    expect((await t.api('DELETE', '/chargers/GONE')).status).toBe(204);
    expect(await count(t.app.db('device_model_variables').where({ charger_id: 'GONE' }))).toBe(0);
    expect(await count(t.app.db('device_model_reports').where({ charger_id: 'GONE' }))).toBe(0);
  });
});

describe('the device model API', () => {
  it('reads and changes variables, stores each answer, audits the change and keeps security settings for installers', async () => {
    t = await apps.start({ config: { plugins: { users: {} } } });
    const cp = await station(t, 'API1');
    await boot201(cp);
    const { values } = serveModel(cp);
    await refreshed(t, 'API1');

    const got = await t.api('POST', '/chargers/API1/device-model/get', { body: { variables: [
      { component: 'ocppcommctrlr', variable: 'HeartbeatInterval' }, { component: 'OCPPCommCtrlr', variable: 'Nope' }, { component: 'NoSuchCtrlr', variable: 'X' },
    ] } });
    expect(got.status).toBe(200);
    expect(got.body.results.map((r: { status: string; value: string | null }) => [r.status, r.value])).toEqual([
      ['Accepted', '300'], ['UnknownVariable', null], ['UnknownComponent', null],
    ]);

    const set = await t.api('POST', '/chargers/API1/device-model/set', { body: { variables: [
      { component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval', value: '120' },
      { component: 'TxCtrlr', variable: 'EVConnectionTimeOut', value: '90' },
      { component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval', attributeType: 'Target', value: '5' },
      { component: 'Foo', variable: 'Bar', value: '1' },
    ] } });
    expect(set.status).toBe(200);
    expect(set.body.results.map((r: { status: string }) => r.status)).toEqual(['Accepted', 'RebootRequired', 'UnknownVariable', 'UnknownComponent']);
    expect(values.get('ocppcommctrlr/0/0/heartbeatinterval//actual')).toBe('120');
    const after = (await t.api('GET', '/chargers/API1/device-model?component=OCPPCommCtrlr')).body;
    expect(after.components[0].variables[0].attributes[0]).toMatchObject({ value: '120', answer: { status: 'Accepted', reason: null } });
    expect(after.summary.heartbeatIntervalS).toBe(120);
    const tx = (await t.api('GET', '/chargers/API1/device-model?variable=EVConnectionTimeOut')).body.components[0].variables[0];
    // RebootRequired: the charger still runs the old value.
    expect(tx.attributes.map((a: { type: string; value: string; answer: { status: string } | null }) => [a.type, a.value, a.answer?.status ?? null]))
      .toEqual([['Actual', '60', 'RebootRequired'], ['MaxSet', '600', null]]);
    const rejected = await t.api('POST', '/chargers/API1/device-model/set', { body: { variables: [{ component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval', value: '5' }] } });
    expect(rejected.body.results[0]).toMatchObject({ status: 'Rejected', reason: 'ValueTooLow: at least 10 s' });
    const audit = (await t.api('GET', '/audit?action=command.SetVariables')).body;
    expect(audit).toHaveLength(2);
    expect(audit[1]).toMatchObject({ actor: 'admin', target: 'API1' });

    // A technician may not change who the charger trusts; an installer may.
    await createUser(t, 'tech', 'technician', 'tech-password-1');
    const tech = await t.login('tech', 'tech-password-1');
    const security = { variables: [{ component: 'SecurityCtrlr', variable: 'SecurityProfile', value: '3' }] };
    const refused = await t.api('POST', '/chargers/API1/device-model/set', { body: security, token: tech });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain('SecurityCtrlr.SecurityProfile');
    expect((await t.api('POST', '/chargers/API1/device-model/set', { body: { variables: [{ component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval', value: '60' }] }, token: tech })).status).toBe(200);
    const viewer = await createUser(t, 'view', 'viewer', 'view-password-1').then(() => t.login('view', 'view-password-1'));
    expect((await t.api('GET', '/chargers/API1/device-model', { token: viewer })).status).toBe(200);
    expect((await t.api('POST', '/chargers/API1/device-model/refresh', { token: viewer })).status).toBe(403);
  });

  it('shows a refused report as refused and keeps a charger\'s 20 newest reports', async () => {
    t = await apps.start();
    const cp = await station(t, 'API3');
    await boot201(cp);
    cp.handle('GetBaseReport', () => ({ status: 'Rejected' }));
    for (let i = 0; i < 22; i++) expect((await t.api('POST', '/chargers/API3/device-model/refresh')).body).toMatchObject({ state: 'refused', answer: 'Rejected' });
    expect(t.seen('charger.deviceModel').filter((e) => e.chargerId === 'API3' && e.state === 'refused')).toHaveLength(22);
    expect(await count(t.app.db('device_model_reports').where({ charger_id: 'API3' }))).toBe(20);
    expect((await t.api('GET', '/chargers/API3/device-model')).body.report).toMatchObject({ state: 'refused' });
  });

  it('answers 400 naming the field, 404 for an unknown charger, 409 for a 1.6 or offline charger', async () => {
    t = await apps.start();
    const old = await t.chargePoint('OLD16');
    await old.boot();
    const cp = await station(t, 'API2');
    await boot201(cp);

    const bad = await t.api('POST', '/chargers/API2/device-model/set', { body: { variables: [{ component: 'C'.repeat(51), variable: 'V', value: '1', connectorId: 1 }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['variables[0].component', 'variables[0].connectorId']);
    const empty = await t.api('POST', '/chargers/API2/device-model/get', { body: { variables: [] } });
    expect(empty.status).toBe(400);
    expect(empty.body.errors[0].field).toBe('variables');
    const page = await t.api('GET', '/chargers/API2/device-model?limit=5000');
    expect(page.status).toBe(400);
    expect(page.body.errors[0].field).toBe('limit');

    expect((await t.api('GET', '/chargers/NOPE/device-model')).status).toBe(404);
    for (const [method, path] of [['GET', ''], ['POST', '/refresh'], ['POST', '/get'], ['POST', '/set']] as const) {
      const body = path === '/set' ? { variables: [{ component: 'A', variable: 'B', value: '1' }] } : path === '/get' ? { variables: [{ component: 'A', variable: 'B' }] } : undefined;
      const res = await t.api(method, `/chargers/OLD16/device-model${path}`, { body });
      expect(res.status, path).toBe(409);
      expect(res.body.message).toBe('OLD16 speaks OCPP 1.6, which has configuration keys (GetConfiguration, ChangeConfiguration) instead of a device model');
    }

    // Offline: nothing is asked, and no report waits for an answer.
    await cp.close();
    await eventually(() => !t.app.ocpp.isOnline('API2'));
    expect((await t.api('POST', '/chargers/API2/device-model/refresh')).status).toBe(409);
    expect((await t.api('GET', '/chargers/API2/device-model')).body.report).toBeNull();
  });
});
