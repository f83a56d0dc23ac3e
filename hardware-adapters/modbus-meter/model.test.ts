import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeReading, type RegisterSource } from './decode.js';
import { loadFixture, loadModelFile, loadModels, MODELS_DIR, ModelError, type Fixture, type MeterReading } from './model.js';
import { readMeter } from './read.js';
import { locateModel } from './sunspec.js';
import { simulatorWithLink } from './test-kit.js';

const modelFiles = readdirSync(MODELS_DIR).filter((f) => f.endsWith('.yaml')).sort();

function fixtureSource(f: Fixture): RegisterSource {
  return (fn, addr) => {
    const regs = f.registers[fn] ?? {};
    for (const [k, v] of Object.entries(regs)) if (Number(k) === addr) return v;
    return undefined;
  };
}

/** Equal to 9 significant digits: float32 sources carry about 7, the rest is exact. */
function expectReading(actual: MeterReading, expected: MeterReading): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [key, want] of Object.entries(expected) as Array<[keyof MeterReading, number | number[]]>) {
    const got = actual[key] as number | number[];
    const pairs: Array<[number, number]> = Array.isArray(want) ? want.map((w, i) => [(got as number[])[i]!, w]) : [[got as number, want]];
    if (Array.isArray(want)) expect((got as number[]).length, key).toBe(want.length);
    for (const [g, w] of pairs) expect(Math.abs(g - w), `${key}: got ${g}, expected ${w}`).toBeLessThanOrEqual(Math.abs(w) * 1e-9 + 1e-9);
  }
}

describe('meter model files', () => {
  it('ships at least the models the product promises', () => {
    const names = modelFiles.map((f) => f.replace(/\.yaml$/, ''));
    for (const required of [
      'eastron-sdm630', 'eastron-sdm120', 'eastron-sdm72', 'eastron-sdm230', 'abb-b23', 'carlo-gavazzi-em24',
      'carlo-gavazzi-em340', 'janitza-umg604', 'finder-7m38', 'orno-or-we-517', 'inepro-pro380', 'siemens-pac2200', 'sunspec-meter',
    ]) expect(names).toContain(required);
  });

  it('loads every model in the folder without problems', () => {
    const { models, broken } = loadModels();
    expect([...broken.values()].map((e) => e.message)).toEqual([]);
    expect(models.size).toBe(modelFiles.length);
  });

  describe.each(modelFiles)('%s', (file) => {
    const name = file.replace(/\.yaml$/, '');

    it('validates against the model schema and names itself after its file', () => {
      expect(loadModelFile(join(MODELS_DIR, file)).model).toBe(name);
    });

    it('replays its fixture to the expected readings', () => {
      const model = loadModelFile(join(MODELS_DIR, file));
      const fixture = loadFixture(join(MODELS_DIR, `${name}.fixture.json`));
      const readingKeys = Object.keys(model.readings).sort();
      expect(Object.keys(fixture.expected).sort(), 'the fixture covers every reading of the model').toEqual(readingKeys);
      expectReading(decodeReading(model, fixtureSource(fixture)), fixture.expected);
    });
  });
});

describe('every model fixture over a real Modbus TCP socket', () => {
  const kit = simulatorWithLink();

  it.each(modelFiles.map((f, i) => [f, i + 1] as const))('reads %s from the simulator as the fixture expects', async (file, unitId) => {
    const name = file.replace(/\.yaml$/, '');
    const model = loadModelFile(join(MODELS_DIR, file));
    const fixture = loadFixture(join(MODELS_DIR, `${name}.fixture.json`));
    kit.sim.load(unitId, fixture);
    // As the poller does: a SunSpec model is first located on the device.
    expectReading(await readMeter(kit.link, await locateModel(kit.link, model, unitId, 1000), unitId, 1000), fixture.expected);
  });
});

describe('a bad model file', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'meter-models-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const good = `model: my-meter
products: [{ brand: Acme, name: M1 }]
link: { transports: [tcp] }
encoding: { wordOrder: big }
readings:
  powerW: { fn: input, addr: 0x0034, type: float32 }
`;

  it('is refused with an error naming the file and the field', () => {
    const file = write('my-meter.yaml', good.replace('type: float32', 'type: float'));
    expect(() => loadModelFile(file)).toThrow(ModelError);
    expect(() => loadModelFile(file)).toThrow(/my-meter\.yaml: readings\.powerW\.type: expected one of int16, uint16, int32, uint32, float32, int64, uint64, float64, got "float"/);
  });

  it('names an unknown reading key and the keys it expected', () => {
    const file = write('my-meter.yaml', good.replace('powerW:', 'powerKW:'));
    expect(() => loadModelFile(file)).toThrow(/my-meter\.yaml: readings\.powerKW: unknown key; expected one of powerW, energyImportWh/);
  });

  it('names a missing field', () => {
    const file = write('my-meter.yaml', good.replace('encoding: { wordOrder: big }\n', ''));
    expect(() => loadModelFile(file)).toThrow(/my-meter\.yaml: encoding: is required/);
  });

  it('is refused when its model name differs from its file name', () => {
    const file = write('other-name.yaml', good);
    expect(() => loadModelFile(file)).toThrow(/other-name\.yaml: model: expected "other-name" \(the file name\), got "my-meter"/);
  });

  it('is refused when a value runs past the register space', () => {
    const file = write('my-meter.yaml', good.replace('addr: 0x0034', 'addr: 0xFFFF'));
    expect(() => loadModelFile(file)).toThrow(/readings\.powerW\.addr: float32 at 65535 runs past register 65535/);
  });

  it('is refused when a SunSpec model reads input registers', () => {
    const file = write('my-meter.yaml', good.replace('readings:', 'sunspec: { models: [203], nominalHeader: 40070 }\nreadings:'));
    expect(() => loadModelFile(file)).toThrow(/my-meter\.yaml: readings\.powerW\.fn: expected holding \(a SunSpec map is holding registers\), got input/);
    expect(loadModelFile(write('my-meter.yaml', good.replace('readings:', 'sunspec: { models: [203], nominalHeader: 40070 }\nreadings:').replace('fn: input', 'fn: holding'))).sunspec)
      .toEqual({ models: [203], nominalHeader: 40070 });
  });

  it('reports YAML syntax errors with the file name', () => {
    const file = write('my-meter.yaml', 'model: [unclosed\n');
    expect(() => loadModelFile(file)).toThrow(/my-meter\.yaml: \(yaml\):/);
  });

  it('is set aside while the other models of the folder still load', () => {
    write('my-meter.yaml', good);
    write('broken-meter.yaml', good.replace('model: my-meter', 'model: broken-meter').replace('fn: input', 'fn: coil'));
    const { models, broken } = loadModels(dir);
    expect([...models.keys()]).toContain('my-meter');
    expect(broken.get('broken-meter')?.message).toMatch(/broken-meter\.yaml: readings\.powerW\.fn: expected one of input, holding, got "coil"/);
  });
});
