import { describe, expect, it } from 'vitest';
import { decodeReading, planReads, rawValue, type RegisterSource } from './decode.js';
import type { MeterModel } from './model.js';

const source = (input: Record<number, number>, holding: Record<number, number> = {}): RegisterSource =>
  (fn, addr) => (fn === 'input' ? input : holding)[addr];

const model = (readings: MeterModel['readings'], extra: Partial<MeterModel> = {}): MeterModel => ({
  model: 'test', products: [{ brand: 'Test', name: 'T' }], link: { transports: ['tcp'] },
  encoding: { wordOrder: 'big' }, readings, ...extra,
});

describe('register decoding', () => {
  it('decodes float32 with the high word first (230.1 V = 0x4366 0x199A)', () => {
    expect(rawValue('float32', [0x4366, 0x199a], 'big')).toBe(230.1);
  });

  it('decodes float32 with the low word first', () => {
    expect(rawValue('float32', [0x199a, 0x4366], 'little')).toBe(230.1);
  });

  it('decodes signed and unsigned 32-bit integers in both word orders', () => {
    // -123456 = 0xFFFE1DC0
    expect(rawValue('int32', [0xfffe, 0x1dc0], 'big')).toBe(-123456);
    expect(rawValue('int32', [0x1dc0, 0xfffe], 'little')).toBe(-123456);
    expect(rawValue('uint32', [0xfffe, 0x1dc0], 'big')).toBe(4294843840);
  });

  it('decodes 16-bit and 64-bit integers and float64', () => {
    expect(rawValue('int16', [0xff9c], 'big')).toBe(-100);
    expect(rawValue('uint16', [0xff9c], 'big')).toBe(65436);
    // 1234567 = 0x00000000 0012D687
    expect(rawValue('uint64', [0, 0, 0x0012, 0xd687], 'big')).toBe(1234567);
    expect(rawValue('int64', [0xd687, 0x0012, 0, 0], 'little')).toBe(1234567);
    expect(rawValue('int64', [0xffff, 0xffff, 0xffff, 0xfffe], 'big')).toBe(-2);
    // 12345678.9 as IEEE 754 double = 0x41678C29 DCCCCCCD
    expect(rawValue('float64', [0x4167, 0x8c29, 0xdccc, 0xcccd], 'big')).toBe(12345678.9);
  });

  it('applies scale, turning kWh into Wh and tenths into units without binary noise', () => {
    const m = model({
      energyImportWh: { fn: 'input', addr: 0, type: 'float32', scale: 1000 },
      voltageV: { fn: 'holding', addr: [10], type: 'uint16', scale: 0.1 },
    });
    // 12345.6 kWh (float32 0x4640E666) and 2301 tenths of a volt
    const r = decodeReading(m, source({ 0: 0x4640, 1: 0xe666 }, { 10: 2301 }));
    expect(r).toEqual({ energyImportWh: 12345600, voltageV: [230.1] });
  });

  it('uses the per-reading word order over the model default', () => {
    const m = model({
      powerW: { fn: 'input', addr: 0, type: 'int32', wordOrder: 'little' },
      energyImportWh: { fn: 'input', addr: 2, type: 'int32' },
    }, { encoding: { wordOrder: 'big' } });
    expect(decodeReading(m, source({ 0: 0x1dc0, 1: 0xfffe, 2: 0xfffe, 3: 0x1dc0 }))).toEqual({ powerW: -123456, energyImportWh: -123456 });
  });

  it('applies a SunSpec scale factor register', () => {
    const m = model({
      powerW: { fn: 'holding', addr: 100, type: 'int16', scaleFactorAddr: 101 },
      powerFactor: { fn: 'holding', addr: 102, type: 'int16', scaleFactorAddr: 103, scale: 0.01 },
    });
    // W = -2505 * 10^-1; PF = 985 * 10^-1 percent
    expect(decodeReading(m, source({}, { 100: -2505 & 0xffff, 101: -1 & 0xffff, 102: 985, 103: 0xffff })))
      .toEqual({ powerW: -250.5, powerFactor: 0.985 });
  });

  it('leaves out a value the device marks unavailable, and one with an unimplemented scale factor', () => {
    const m = model({
      powerW: { fn: 'holding', addr: 0, type: 'int32', unavailable: 0x7fffffff },
      frequencyHz: { fn: 'holding', addr: 2, type: 'int16', scaleFactorAddr: 3 },
      energyImportWh: { fn: 'input', addr: 0, type: 'float32' },
    });
    // 0x7FFFFFFF, sunssf 0x8000, and a float32 NaN
    expect(decodeReading(m, source({ 0: 0x7fc0, 1: 0 }, { 0: 0x7fff, 1: 0xffff, 2: 5000, 3: 0x8000 }))).toEqual({});
  });

  it('drops unavailable trailing phases but never shifts phases', () => {
    const m = model({
      voltageV: { fn: 'holding', addr: [0, 1, 2], type: 'uint16', scale: 0.1, unavailable: 0xffff },
      currentA: { fn: 'holding', addr: [3, 4, 5], type: 'uint16', scale: 0.01, unavailable: 0xffff },
    });
    const r = decodeReading(m, source({}, { 0: 2301, 1: 0xffff, 2: 0xffff, 3: 725, 4: 0xffff, 5: 13 }));
    expect(r).toEqual({ voltageV: [230.1] });
  });

  it('fails loudly when a needed register was not read', () => {
    const m = model({ powerW: { fn: 'input', addr: 0, type: 'float32' } });
    expect(() => decodeReading(m, source({ 0: 1 }))).toThrow(/input register 1 was not read/);
  });
});

describe('request planning', () => {
  it('merges registers within the model\'s gap into one request per function code', () => {
    const m = model({
      powerW: { fn: 'input', addr: 0x34, type: 'float32' },
      voltageV: { fn: 'input', addr: [0, 2, 4], type: 'float32' },
      energyImportWh: { fn: 'input', addr: 0x48, type: 'float32' },
      frequencyHz: { fn: 'holding', addr: 10, type: 'uint16', scaleFactorAddr: 11 },
    }, { blocks: { maxGap: 50, maxCount: 80 } });
    expect(planReads(m)).toEqual([
      { fn: 'input', addr: 0, count: 0x4a },
      { fn: 'holding', addr: 10, count: 2 },
    ]);
  });

  it('reads only contiguous registers together when the model sets no gap', () => {
    const m = model({
      voltageV: { fn: 'input', addr: [0, 2, 4], type: 'float32' },
      powerW: { fn: 'input', addr: 8, type: 'float32' },
    });
    expect(planReads(m)).toEqual([{ fn: 'input', addr: 0, count: 6 }, { fn: 'input', addr: 8, count: 2 }]);
  });

  it('splits a block that would exceed maxCount', () => {
    const m = model({
      voltageV: { fn: 'input', addr: [0, 2, 4], type: 'float32' },
      currentA: { fn: 'input', addr: [6, 8, 10], type: 'float32' },
    }, { blocks: { maxGap: 10, maxCount: 8 } });
    expect(planReads(m)).toEqual([{ fn: 'input', addr: 0, count: 8 }, { fn: 'input', addr: 8, count: 4 }]);
  });
});
