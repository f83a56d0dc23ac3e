import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../../../tests/kit/index.js';
import { active, findings, withDiagnostics } from '../test-kit.js';

let t: TestApp;
const apps = useApp();

describe('meter-unreachable check', () => {
  it('raises one finding per unreachable meter and clears it when the meter answers again', async () => {
    t = await apps.start(withDiagnostics());
    t.app.bus.emit('meter.unreachable', { meterId: 'grid', at: t.clock.iso(), error: 'connect ECONNREFUSED 127.0.0.1:502' });
    t.app.bus.emit('meter.unreachable', { meterId: 'grid', at: t.clock.iso(), error: 'connect ECONNREFUSED 127.0.0.1:502' });
    t.app.bus.emit('meter.unreachable', { meterId: 'cp1-meter', at: t.clock.iso(), error: 'timed out' });
    const list = await active(t, 'meter-unreachable');
    expect(list.map((f) => f.subKey).sort()).toEqual(['cp1-meter', 'grid']);
    const grid = list.find((f) => f.subKey === 'grid')!;
    expect(grid).toMatchObject({ chargerId: null, severity: 'warning', occurrences: 2 });
    expect(grid.message).toMatch(/Site meter grid does not answer \(connect ECONNREFUSED.*\)\. Likely cause: the meter lost power/);

    t.app.bus.emit('meter.reachable', { meterId: 'grid', at: t.clock.iso() });
    t.app.bus.emit('meter.sampled', { source: 'modbus', meterId: 'cp1-meter', at: t.clock.iso(), energyImportWh: 10 });
    expect(await active(t, 'meter-unreachable')).toEqual([]);
    expect(await findings(t, { check: 'meter-unreachable' })).toHaveLength(2);
  });
});
