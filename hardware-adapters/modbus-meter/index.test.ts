import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Bus } from '../../core/bus.js';
import { Clock } from '../../core/clock.js';
import { migrate, openDatabase } from '../../core/db/index.js';
import { GroupWriter } from '../../core/db/writer.js';
import { ApiError } from '../../core/errors.js';
import type { EventMap, EventName } from '../../core/events.js';
import { PluginHost } from '../../core/host.js';
import { checkPart } from '../../core/http/validate.js';
import { createLogger } from '../../core/log.js';
import type { Lifecycle, PluginContext } from '../../core/plugin.js';
import { decode } from '../../core/schema.js';
import type { CoreServices } from '../../core/services.js';
import type { PageSpec, RouteSpec } from '../../core/types.js';
import { adapters } from '../index.js';
import type { MeterConfig } from './config.js';
import meters from './index.js';
import { loadFixture, loadModels, MODELS_DIR } from './model.js';
import { MeterSimulator, sunspecRegisters } from './simulator.js';
import { useSimulators } from './test-kit.js';

const sdm630 = loadFixture(join(MODELS_DIR, 'eastron-sdm630.fixture.json'));
const sdm120 = loadFixture(join(MODELS_DIR, 'eastron-sdm120.fixture.json'));
const sunspec = loadFixture(join(MODELS_DIR, 'sunspec-meter.fixture.json'));
const quiet = createLogger('error', 'test', () => undefined);
const knownModels = [...loadModels().models.keys()].join(', ');

const { simulator, defer } = useSimulators();

/** The meters adapter on a hand-built PluginContext: real SQLite, bus, clock and group writer. */
async function startMeters(raw: unknown[]) {
  const dir = mkdtempSync(join(tmpdir(), 'meters-plugin-'));
  const db = openDatabase({ client: 'sqlite', filename: 'test.sqlite' }, dir);
  await migrate(db, 'meters', meters.migrations ?? []);
  const clock = new Clock();
  const bus = new Bus(quiet);
  const writer = new GroupWriter(db, 2, quiet);
  const { value, problems } = decode<MeterConfig[]>(meters.manifest.config, raw);
  expect(problems).toEqual([]);
  expect(meters.manifest.validate!(value!)).toEqual([]);
  const routes: RouteSpec[] = [];
  const pages: PageSpec[] = [];
  const jobs: Array<{ name: string; intervalMs: number; fn: () => void | Promise<void> }> = [];
  const events: Array<{ event: EventName; payload: unknown }> = [];
  bus.onAny((event, payload) => events.push({ event, payload }));
  const core = { site: { name: 'Test', timezone: 'UTC' }, dataDir: dir, publicUrl: 'http://127.0.0.1', version: 'test', clock, writer } as Partial<CoreServices>;
  const ctx: PluginContext<MeterConfig[]> = {
    name: 'meters', config: value!, log: quiet, db, core: core as CoreServices,
    on: (event, fn) => { bus.on(event, fn, 'meters'); },
    emit: (event, e) => bus.emit(event, e),
    decide: (hook, fn) => { bus.decide(hook, fn, 'meters'); },
    ask: (hook, arg) => bus.ask(hook, arg),
    route: (spec) => { routes.push(spec); },
    page: (spec) => { pages.push(spec); },
    every: (name, intervalMs, fn) => { jobs.push({ name, intervalMs, fn }); },
    provide: () => undefined,
    sitePart: () => undefined,
    use: () => undefined,
  };
  const lifecycle = meters.register(ctx) as Lifecycle;
  await lifecycle.start!();
  defer(async () => {
    await lifecycle.stop!();
    await writer.flush();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, params: Record<string, string> = {}, query: Record<string, string> = {}) => {
    const spec = routes.find((r) => r.method === method && r.path === path);
    if (!spec) throw new Error(`no route ${method} ${path}`);
    return spec.handler({
      params: checkPart(spec.params, params, 'params'), query: checkPart(spec.query, query, 'query'),
      payload: undefined, principal: null, token: null, raw: null as never,
    }, null as never);
  };
  const seen = <K extends EventName>(event: K) => events.filter((e) => e.event === event).map((e) => e.payload as EventMap[K]);
  const waitFor = async <K extends EventName>(event: K, count = 1, timeoutMs = 5000) => {
    const end = Date.now() + timeoutMs;
    while (seen(event).length < count) {
      if (Date.now() > end) throw new Error(`waited ${timeoutMs} ms for ${count} × ${event}, saw ${seen(event).length}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return seen(event);
  };
  return { db, clock, routes, pages, jobs, call, seen, waitFor };
}

const tcp = (sim: MeterSimulator, unitId: number) => ({ host: '127.0.0.1', port: sim.port, unitId });

describe('the meters adapter', () => {
  it('publishes each reading as meter.sampled, naming the charger a charger meter measures', async () => {
    const sim = await simulator();
    sim.load(1, sdm630);
    sim.load(2, sdm120);
    const m = await startMeters([
      { id: 'grid', model: 'eastron-sdm630', modbus: tcp(sim, 1), role: 'grid', pollInterval: '100ms' },
      { id: 'cp1-meter', model: 'eastron-sdm120', modbus: tcp(sim, 2), role: 'charger', chargerId: 'CP1', connectorId: 1, pollInterval: '100ms' },
    ]);
    const samples = await m.waitFor('meter.sampled', 4);
    const grid = samples.find((s) => s.meterId === 'grid')!;
    const cp1 = samples.find((s) => s.meterId === 'cp1-meter')!;
    expect(grid).toEqual({
      source: 'modbus', meterId: 'grid', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      powerW: 3456.7, energyImportWh: 12345600, energyExportWh: 78900,
      voltageV: [230.1, 231.4, 229.8], currentA: [7.25, 6.5, 0.13], frequencyHz: 50.01, powerFactor: 0.987,
    });
    expect(cp1).toMatchObject({ source: 'modbus', meterId: 'cp1-meter', chargerId: 'CP1', connectorId: 1, powerW: 1650.5, voltageV: [231.4] });
    // Both meters share the one gateway connection and never overlap on it.
    expect(sim.maxInFlight).toBe(1);
  });

  it('lists meters with their latest reading and stores the samples', async () => {
    const sim = await simulator();
    sim.load(1, sdm630);
    const m = await startMeters([{ id: 'grid', model: 'eastron-sdm630', modbus: tcp(sim, 1), role: 'grid', pollInterval: '100ms' }]);
    await m.waitFor('meter.sampled', 2);
    const list = await m.call('GET', '/meters') as Array<Record<string, unknown>>;
    expect(list).toEqual([{
      id: 'grid', model: 'eastron-sdm630', role: 'grid', chargerId: null, connectorId: null, online: true, lastError: null,
      reading: {
        at: expect.any(String), powerW: 3456.7, energyImportWh: 12345600, energyExportWh: 78900,
        voltageV: [230.1, 231.4, 229.8], currentA: [7.25, 6.5, 0.13], frequencyHz: 50.01, powerFactor: 0.987,
      },
    }]);
    await new Promise((r) => setTimeout(r, 50));
    const rows = await m.db('meters_readings').where({ meter_id: 'grid' });
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows[0]).toMatchObject({ power_w: 3456.7, energy_import_wh: 12345600, voltage_v: '[230.1,231.4,229.8]' });
    expect(m.pages).toEqual([{ path: 'meters', title: 'Meters', component: 'MetersPage', roles: ['admin', 'installer', 'technician', 'viewer'] }]);
    expect(m.jobs.map((j) => j.name)).toEqual(['compact']);
  });

  it('follows a live value as it changes', async () => {
    const sim = await simulator();
    sim.load(1, sdm630);
    const m = await startMeters([{ id: 'grid', model: 'eastron-sdm630', modbus: tcp(sim, 1), role: 'grid', pollInterval: '100ms' }]);
    await m.waitFor('meter.sampled', 1);
    sim.setFloat(1, 'input', 0x34, -812.5);
    const end = Date.now() + 3000;
    while (!m.seen('meter.sampled').some((s) => s.powerW === -812.5)) {
      if (Date.now() > end) throw new Error('new power value never published');
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('reports a meter that stops answering as unreachable once, and its return once', async () => {
    const sim = await simulator();
    sim.load(1, sdm630);
    const m = await startMeters([{ id: 'grid', model: 'eastron-sdm630', modbus: tcp(sim, 1), role: 'grid', pollInterval: '100ms', timeout: '200ms' }]);
    await m.waitFor('meter.sampled', 1);
    await sim.stop();
    const [down] = await m.waitFor('meter.unreachable', 1, 8000);
    expect(down).toEqual({ meterId: 'grid', at: expect.any(String), error: expect.stringMatching(/127\.0\.0\.1/) });
    let [view] = await m.call('GET', '/meters') as Array<{ online: boolean; lastError: string | null; reading: unknown }>;
    expect(view!.online).toBe(false);
    expect(view!.lastError).toMatch(/127\.0\.0\.1/);
    expect(view!.reading).not.toBeNull();
    // Further failed polls do not repeat the event.
    await new Promise((r) => setTimeout(r, 800));
    expect(m.seen('meter.unreachable')).toHaveLength(1);
    expect(await m.db('meters_status').where({ meter_id: 'grid' }).first()).toMatchObject({ reachable: 0 });

    const before = m.seen('meter.sampled').length;
    await sim.listen(sim.port);
    const [up] = await m.waitFor('meter.reachable', 1, 8000);
    expect(up).toEqual({ meterId: 'grid', at: expect.any(String) });
    await m.waitFor('meter.sampled', before + 2);
    expect(m.seen('meter.reachable')).toHaveLength(1);
    [view] = await m.call('GET', '/meters') as Array<{ online: boolean; lastError: string | null; reading: unknown }>;
    expect(view).toMatchObject({ online: true, lastError: null });
  });

  it('reports a silent meter (timeouts) as unreachable', async () => {
    const sim = await simulator();
    sim.load(1, sdm630);
    sim.silent.add(1);
    const m = await startMeters([{ id: 'grid', model: 'eastron-sdm630', modbus: tcp(sim, 1), role: 'grid', pollInterval: '100ms', timeout: '100ms' }]);
    const [down] = await m.waitFor('meter.unreachable', 1, 8000);
    expect(down!.error).toMatch(/no answer in 100 ms/);
    expect(m.seen('meter.sampled')).toHaveLength(0);
    sim.silent.delete(1);
    await m.waitFor('meter.reachable', 1, 8000);
  });

  it('locates a SunSpec meter model once, and again after the meter was unreachable (it may have been replaced)', async () => {
    const sim = await simulator();
    sim.load(1, sunspec);
    const m = await startMeters([{ id: 'grid', model: 'sunspec-meter', modbus: tcp(sim, 1), role: 'grid', pollInterval: '100ms', timeout: '100ms' }]);
    await m.waitFor('meter.sampled', 3);
    const markerReads = () => sim.requests.filter((r) => r.fn === 'holding' && r.count === 2 && [40000, 50000, 0].includes(r.addr)).length;
    expect(markerReads()).toBe(1);
    expect(m.seen('meter.sampled')[0]).toMatchObject({ powerW: 5012, energyImportWh: 12345678 });

    sim.silent.add(1);
    await m.waitFor('meter.unreachable', 1, 8000);
    // Another device: no marker at 40000 any more, its map at 50000 with other models first and another power value.
    const moved = sunspecRegisters(sunspec, 40070, { base: 50000, commonLength: 65, before: [{ id: 101, length: 50 }] });
    const wOffset = 40088 - 40070;
    sim.set(1, 'holding', { ...moved.registers, 40000: 0, 40001: 0, [moved.header + wOffset]: 7000 });
    sim.silent.delete(1);
    await m.waitFor('meter.reachable', 1, 8000);
    const [after] = await m.waitFor('meter.sampled', m.seen('meter.sampled').length + 1).then((all) => all.slice(-1));
    expect(after).toMatchObject({ powerW: 7000, energyImportWh: 12345678, voltageV: [230.1, 231.4, 229.8] });
  });

  it('reports a device without a SunSpec map as unreachable, naming the addresses it tried', async () => {
    const sim = await simulator();
    sim.set(1, 'holding', { 40000: 0x1234 });
    const m = await startMeters([{ id: 'grid', model: 'sunspec-meter', modbus: tcp(sim, 1), role: 'grid', pollInterval: '100ms' }]);
    const [down] = await m.waitFor('meter.unreachable', 1, 8000);
    const message = `modbus-meter: tcp://127.0.0.1:${sim.port}: unit 1: no SunSpec map: no "SunS" marker at holding register 40000, 50000, 0`;
    expect(down!.error).toBe(message);
    const [view] = await m.call('GET', '/meters') as Array<{ online: boolean; lastError: string | null }>;
    expect(view).toMatchObject({ online: false, lastError: message });
    expect(m.seen('meter.sampled')).toHaveLength(0);
  });

  it('flips power and swaps import and export for a meter mounted the other way round', async () => {
    const sim = await simulator();
    sim.load(1, sdm630);
    const m = await startMeters([{ id: 'grid', model: 'eastron-sdm630', modbus: tcp(sim, 1), role: 'grid', pollInterval: '100ms', invert: true }]);
    const [s] = await m.waitFor('meter.sampled', 1);
    expect(s).toMatchObject({ powerW: -3456.7, energyImportWh: 78900, energyExportWh: 12345600 });
  });

  it('answers history per minute, and 404 or 400 naming the field for bad requests', async () => {
    const sim = await simulator();
    sim.load(1, sdm630);
    const m = await startMeters([{ id: 'grid', model: 'eastron-sdm630', modbus: tcp(sim, 1), role: 'grid', pollInterval: '100ms' }]);
    await m.waitFor('meter.sampled', 2);
    await new Promise((r) => setTimeout(r, 50));
    const points = await m.call('GET', '/meters/{id}/history', { id: 'grid' }) as Array<Record<string, unknown>>;
    expect(points.length).toBeGreaterThanOrEqual(1);
    expect(points.at(-1)).toEqual({ at: expect.stringMatching(/:00\.000Z$/), powerW: 3456.7, energyImportWh: 12345600 });
    const raw = await m.call('GET', '/meters/{id}/history', { id: 'grid' }, { resolution: 'raw', from: new Date(Date.now() - 60_000).toISOString() }) as unknown[];
    expect(raw.length).toBeGreaterThanOrEqual(2);

    await expect(m.call('GET', '/meters/{id}/history', { id: 'nope' })).rejects.toMatchObject({ status: 404 });
    const bad = await m.call('GET', '/meters/{id}/history', { id: 'grid' }, { from: 'yesterday' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ApiError);
    expect((bad as ApiError).errors).toEqual([{ field: 'from', message: 'expected an ISO 8601 time with offset, like 2024-05-01T00:00:00Z, got "yesterday"' }]);
    const res = await m.call('GET', '/meters/{id}/history', { id: 'grid' }, { resolution: 'second' }).catch((e: unknown) => e);
    expect((res as ApiError).errors[0]).toMatchObject({ field: 'resolution', message: expect.stringMatching(/expected one of raw, minute, hour/) });
    const order = await m.call('GET', '/meters/{id}/history', { id: 'grid' }, { from: '2024-05-02T00:00:00Z', to: '2024-05-01T00:00:00+02:00' }).catch((e: unknown) => e);
    expect((order as ApiError).status).toBe(400);
    expect((order as ApiError).errors[0]!.field).toBe('from');
  });
});

describe('meters config validation', () => {
  const host = () => new PluginHost(new Bus(quiet), new Clock(), quiet);
  const check = (raw: unknown) => host().prepare([{ key: 'meters', path: 'meters', raw, registry: adapters }]);
  const grid = { id: 'grid', model: 'eastron-sdm630', modbus: { host: '192.168.1.50', port: 502, unitId: 1 }, role: 'grid' };

  it('accepts the spec example', () => {
    expect(check([
      { ...grid, pollInterval: '5s' },
      { id: 'cp1-meter', model: 'eastron-sdm120', modbus: { host: '192.168.1.51', port: 502, unitId: 2 }, role: 'charger', chargerId: 'CP1', connectorId: 1 },
      { id: 'cp2-meter', model: 'eastron-sdm120', modbus: { device: '/dev/ttyUSB0', baudRate: 9600, parity: 'none', unitId: 2 }, role: 'charger', chargerId: 'CP2', connectorId: 1 },
      { id: 'cp3-meter', model: 'eastron-sdm120', modbus: { host: '192.168.1.52', port: 8899, unitId: 3, transport: 'rtu-over-tcp' }, role: 'charger', chargerId: 'CP3', connectorId: 1 },
    ])).toEqual([]);
  });

  it('refuses an unknown model and lists the known ones', () => {
    expect(check([grid, { ...grid, id: 'two', model: 'foo', modbus: { ...grid.modbus, unitId: 2 } }])).toEqual([
      { path: 'meters[1].model', message: `expected one of ${knownModels}, got "foo"` },
    ]);
    expect(knownModels).toMatch(/^abb-b23, carlo-gavazzi-em24, .*eastron-sdm630/);
  });

  it('requires the charger and connector of a charger meter', () => {
    expect(check([{ ...grid, role: 'charger' }])).toEqual([
      { path: 'meters[0].chargerId', message: 'is required when role is charger (the charger this meter measures)' },
      { path: 'meters[0].connectorId', message: 'is required when role is charger (the connector this meter measures)' },
    ]);
  });

  it('names bad types, roles and durations by their path', () => {
    const found = check([{ ...grid, role: 'house', pollInterval: 'often', modbus: { host: 'x', unitId: 'one' } }]);
    expect(found).toEqual(expect.arrayContaining([
      { path: 'meters[0].role', message: 'expected one of grid, charger, got "house"' },
      { path: 'meters[0].pollInterval', message: 'expected a duration like 90s, 15m or 2h, got "often"' },
      { path: 'meters[0].modbus.unitId', message: expect.stringMatching(/^expected an integer/) },
    ]));
  });

  it('refuses a link that is both or neither TCP and serial', () => {
    expect(check([{ ...grid, modbus: { host: 'a', device: '/dev/ttyUSB0' } }])).toEqual([
      { path: 'meters[0].modbus', message: 'expected either host (Modbus TCP or RTU over TCP) or device (RTU on a serial port)' },
    ]);
    expect(check([{ ...grid, modbus: { unitId: 1 } }])[0]!.path).toBe('meters[0].modbus');
  });

  it('refuses duplicate ids and two meters at the same unit of one bus', () => {
    expect(check([grid, { ...grid }])).toEqual([
      { path: 'meters[1].id', message: 'duplicate meter id "grid" (also meters[0])' },
      { path: 'meters[1].modbus.unitId', message: 'unit 1 on tcp://192.168.1.50:502 is already meters[0]' },
    ]);
  });

  it('refuses two meters on one serial port with different line settings', () => {
    const serial = (id: string, unitId: number, baudRate: number) => ({ ...grid, id, modbus: { device: '/dev/ttyUSB0', unitId, baudRate } });
    expect(check([serial('a', 1, 9600), serial('b', 2, 19200)])).toEqual([{
      path: 'meters[1].modbus',
      message: '/dev/ttyUSB0 is used by meters[0] with 9600 baud, parity none, 8 data bits, 1 stop bit(s), here with 19200 baud, parity none, 8 data bits, 1 stop bit(s)',
    }]);
  });
});
