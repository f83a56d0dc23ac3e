import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, type TestApp, useApp } from '../../tests/kit/index.js';
import { loadFixture, MODELS_DIR } from './model.js';
import { MeterSimulator } from './simulator.js';

const sdm630 = loadFixture(join(MODELS_DIR, 'eastron-sdm630.fixture.json'));

let sim: MeterSimulator | null = null;
let app: TestApp | null = null;
afterEach(async () => {
  await sim?.stop();
  sim = null;
});
// Registered after the hook above so that it runs first: the app stops before the meter it polls.
const apps = useApp();

describe('meters in the booted appliance', () => {
  it('polls a configured meter and serves its reading on GET /api/meters', async () => {
    sim = await MeterSimulator.start();
    sim.load(1, sdm630);
    app = await apps.start({
      config: { meters: [{ id: 'grid', model: 'eastron-sdm630', modbus: { host: '127.0.0.1', port: sim.port, unitId: 1 }, role: 'grid', pollInterval: '100ms' }] },
    });
    const res = await eventually(async () => {
      const r = await app!.api<Array<{ reading: unknown }>>('GET', '/meters');
      return r.status === 200 && r.body[0]?.reading ? r : null;
    });
    expect(res!.body).toEqual([{
      id: 'grid', model: 'eastron-sdm630', role: 'grid', chargerId: null, connectorId: null, online: true, lastError: null,
      reading: {
        at: expect.any(String), powerW: 3456.7, energyImportWh: 12345600, energyExportWh: 78900,
        voltageV: [230.1, 231.4, 229.8], currentA: [7.25, 6.5, 0.13], frequencyHz: 50.01, powerFactor: 0.987,
      },
    }]);
    // The event follows the stored reading, which the API may serve a moment before it.
    await eventually(() => app!.seen('meter.sampled').length > 0);
    expect(app.seen('meter.sampled')[0]).toMatchObject({ source: 'modbus', meterId: 'grid', powerW: 3456.7 });

    expect((await app.api('GET', '/meters', { token: null })).status).toBe(401);
    const history = await eventually(async () => {
      const r = await app!.api<unknown[]>('GET', '/meters/grid/history?resolution=raw');
      return r.status === 200 && r.body.length > 0 ? r : null;
    });
    expect(history!.body[0]).toEqual({ at: expect.any(String), powerW: 3456.7, energyImportWh: 12345600 });
    expect((await app.api('GET', '/meters/nope/history')).status).toBe(404);
    const bad = await app.api<{ message: string }>('GET', '/meters/grid/history?from=yesterday');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('from');
  });

  it('refuses to boot with an unknown meter model, naming the key and the known models', async () => {
    await expect(apps.start({
      config: { meters: [{ id: 'grid', model: 'foo', modbus: { host: '127.0.0.1', port: 502, unitId: 1 }, role: 'grid' }] },
    })).rejects.toThrow(/meters\[0\]\.model: expected one of abb-b23, .*eastron-sdm630.*, got "foo"/);
  });
});
