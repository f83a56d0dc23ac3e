import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceError } from '../../core/errors.js';
import { loadFixture, loadModelFile, MODELS_DIR } from './model.js';
import { readMeter } from './read.js';
import { sunspecRegisters, type SunSpecLayout } from './simulator.js';
import { locateModel, locateSunSpec } from './sunspec.js';
import { simulatorWithLink } from './test-kit.js';

const model = loadModelFile(join(MODELS_DIR, 'sunspec-meter.yaml'));
const fixture = loadFixture(join(MODELS_DIR, 'sunspec-meter.fixture.json'));
const NOMINAL_HEADER = 40070;

const device = (layout: SunSpecLayout) => sunspecRegisters(fixture, NOMINAL_HEADER, layout);

describe('SunSpec model discovery over a real Modbus TCP socket', () => {
  const kit = simulatorWithLink();

  it('finds the meter model at the nominal address of the fixture device (shift 0)', async () => {
    kit.sim.load(1, fixture);
    expect(await locateSunSpec(kit.link, model, 1, 1000)).toEqual({ base: 40000, header: 40070, id: 203, length: 105, shift: 0 });
  });

  it('reads a map at 50000 with a 65-register common model and an inverter model before the meter', async () => {
    const at50000 = device({ base: 50000, commonLength: 65, before: [{ id: 101, length: 50 }] });
    kit.sim.set(2, 'holding', at50000.registers);
    expect(at50000.header).toBe(50121);
    expect(await locateSunSpec(kit.link, model, 2, 1000)).toMatchObject({ base: 50000, header: 50121, id: 203, shift: 50121 - NOMINAL_HEADER });
    expect(await readMeter(kit.link, await locateModel(kit.link, model, 2, 1000), 2, 1000)).toEqual(fixture.expected);
  });

  it('reads a map at 0', async () => {
    kit.sim.set(3, 'holding', device({ base: 0, commonLength: 66 }).registers);
    expect(await locateSunSpec(kit.link, model, 3, 1000)).toMatchObject({ base: 0, header: 70, shift: 70 - NOMINAL_HEADER });
    expect(await readMeter(kit.link, await locateModel(kit.link, model, 3, 1000), 3, 1000)).toEqual(fixture.expected);
  });

  it('reads a map at 50000 from a device that refuses reads outside its map with exception replies', async () => {
    const strict = device({ base: 50000, commonLength: 66, before: [{ id: 101, length: 50 }] });
    kit.sim.set(4, 'holding', strict.registers);
    kit.sim.restrict(4, [[50000, strict.last]]);
    await expect(kit.link.read({ unitId: 4, fn: 'holding', addr: 40000, count: 2, timeoutMs: 1000 })).rejects.toThrow(/Illegal data address|exception/i);
    expect(await readMeter(kit.link, await locateModel(kit.link, model, 4, 1000), 4, 1000)).toEqual(fixture.expected);
  });

  it('refuses a device without the SunS marker, naming the bases it tried', async () => {
    kit.sim.set(5, 'holding', { 40000: 1, 40001: 2 });
    const err = await locateModel(kit.link, model, 5, 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as Error).message).toBe(`modbus-meter: tcp://127.0.0.1:${kit.sim.port}: unit 5: no SunSpec map: no "SunS" marker at holding register 40000, 50000, 0`);
  });

  it('refuses a map without a meter model, naming the model IDs it found', async () => {
    kit.sim.set(6, 'holding', { 40000: 0x5375, 40001: 0x6e53, 40002: 1, 40003: 66, 40070: 101, 40071: 50, 40122: 0xffff, 40123: 0 });
    await expect(locateModel(kit.link, model, 6, 1000)).rejects.toThrow(
      /unit 6: SunSpec map at holding register 40000 has models 1, 101 but none of 201, 202, 203, 204$/,
    );
  });
});
