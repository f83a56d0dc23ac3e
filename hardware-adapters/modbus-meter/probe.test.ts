import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeReading } from './decode.js';
import { loadFixture, loadModelFile, MODELS_DIR, type Fixture } from './model.js';
import { main } from './probe.js';
import { MeterSimulator, sunspecRegisters } from './simulator.js';

const sunspec = loadFixture(join(MODELS_DIR, 'sunspec-meter.fixture.json'));
let sim: MeterSimulator;
beforeAll(async () => {
  sim = await MeterSimulator.start();
  sim.load(1, loadFixture(join(MODELS_DIR, 'eastron-sdm630.fixture.json')));
  sim.set(2, 'holding', sunspecRegisters(sunspec, 40070, { base: 50000, commonLength: 65, before: [{ id: 101, length: 50 }] }).registers);
});
afterAll(() => sim.stop());

async function probe(...argv: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await main(argv, (l) => lines.push(l));
  return { code, text: lines.join('\n') };
}

describe('meter:probe', () => {
  it('reads a meter once with a given model and prints the decoded values', async () => {
    const { code, text } = await probe('--host', '127.0.0.1', '--port', String(sim.port), '--unit', '1', '--model', 'eastron-sdm630');
    expect(code).toBe(0);
    expect(text).toContain(`eastron-sdm630 (Eastron SDM630-Modbus V2, Eastron SDM630MCT V2) at tcp://127.0.0.1:${sim.port} unit 1`);
    expect(text).toMatch(/powerW {10}3456\.7 W/);
    expect(text).toMatch(/voltageV {8}230\.1 \/ 231\.4 \/ 229\.8 V/);
    expect(text).toMatch(/energyImportWh {2}12345600 Wh {2}\(12345\.600 kWh\)/);
  });

  it('without a model, lists the models that give plausible values', async () => {
    const { code, text } = await probe('--host', '127.0.0.1', '--port', String(sim.port), '--timeout', '300ms');
    expect(code).toBe(0);
    expect(text).toMatch(/plausible {5}eastron-sdm630 +3456\.7 W, 230\.1\/231\.4\/229\.8 V, 50\.01 Hz/);
    expect(text).toMatch(/plausible {5}eastron-sdm72 /);
    expect(text).toMatch(/implausible {3}abb-b23 +no mains voltage or frequency/);
    expect(text).not.toMatch(/plausible {5}janitza-umg604/);
  });

  it('records a fixture from the live registers', async () => {
    const { code, text } = await probe('--host', '127.0.0.1', '--port', String(sim.port), '--model', 'eastron-sdm630', '--fixture');
    expect(code).toBe(0);
    // The output is the fixture file alone, ready to redirect.
    const fixture = JSON.parse(text);
    expect(fixture.registers.input['0x0034']).toBe(17752);
    expect(fixture.expected.powerW).toBe(3456.7);
  });

  it('locates the SunSpec meter model on the device before reading it', async () => {
    const { code, text } = await probe('--host', '127.0.0.1', '--port', String(sim.port), '--unit', '2', '--model', 'sunspec-meter');
    expect(code).toBe(0);
    expect(text).toContain('SunSpec model 203 at holding register 50121 (map at 50000, addresses shifted by 10051)');
    expect(text).toMatch(/powerW {10}5012 W/);
    expect(text).toMatch(/voltageV {8}230\.1 \/ 231\.4 \/ 229\.8 V/);
  });

  it('records a SunSpec fixture at the model file\'s addresses, whatever the device\'s layout', async () => {
    const { code, text } = await probe('--host', '127.0.0.1', '--port', String(sim.port), '--unit', '2', '--model', 'sunspec-meter', '--fixture');
    expect(code).toBe(0);
    const fixture = JSON.parse(text.slice(text.indexOf('{'))) as Fixture;
    expect(fixture.expected).toEqual(sunspec.expected);
    expect(decodeReading(loadModelFile(join(MODELS_DIR, 'sunspec-meter.yaml')), (fn, addr) => fixture.registers[fn]?.[`0x${addr.toString(16).toUpperCase()}`])).toEqual(sunspec.expected);
    // The recorded map leads discovery to the nominal header: the marker, a 66-register common model, model 203.
    expect(fixture.registers.holding).toMatchObject({ '0x9C40': 0x5375, '0x9C41': 0x6e53, '0x9C42': 1, '0x9C43': 66, '0x9C86': 203, '0x9C87': 105 });
  });

  it('explains bad arguments and exits 2', async () => {
    expect(await probe('--model', 'eastron-sdm630')).toMatchObject({ code: 2, text: expect.stringContaining('give either --host or --device') });
    expect(await probe('--host', 'x', '--model', 'foo')).toMatchObject({ code: 2, text: expect.stringMatching(/--model: expected one of abb-b23, .*got "foo"/) });
    expect(await probe('--host', 'x', '--bogus')).toMatchObject({ code: 2 });
  });

  it('exits 1 with the error when nothing answers', async () => {
    const { code, text } = await probe('--host', '127.0.0.1', '--port', '1', '--model', 'eastron-sdm630', '--timeout', '200ms');
    expect(code).toBe(1);
    expect(text).toMatch(/error: .*cannot connect/);
  });
});
