import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceError } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';
import { LinkPool, ModbusLink, type LinkOptions } from './link.js';
import { loadFixture, loadModelFile, MODELS_DIR } from './model.js';
import { readMeter } from './read.js';
import { freePort } from './simulator.js';
import { useSimulators } from './test-kit.js';

const quiet = createLogger('error', 'test', () => undefined);
const sdm630 = loadModelFile(join(MODELS_DIR, 'eastron-sdm630.yaml'));
const recorded = loadFixture(join(MODELS_DIR, 'eastron-sdm630.fixture.json'));

const { simulator, defer } = useSimulators();

function link(opts: LinkOptions, backoff?: { initialMs: number; maxMs: number }): ModbusLink {
  const l = new ModbusLink(opts, quiet, backoff);
  defer(() => l.close());
  return l;
}

describe('Modbus TCP transport', () => {
  it('reads recorded SDM630 registers and decodes them to the unit', async () => {
    const sim = await simulator();
    sim.load(1, recorded);
    const r = await readMeter(link({ transport: 'tcp', host: '127.0.0.1', port: sim.port }), sdm630, 1, 1000);
    expect(r).toEqual({
      powerW: 3456.7, energyImportWh: 12345600, energyExportWh: 78900,
      voltageV: [230.1, 231.4, 229.8], currentA: [7.25, 6.5, 0.13], frequencyHz: 50.01, powerFactor: 0.987,
    });
    // The model's blocks rule reads the whole SDM630 map in one request.
    expect(sim.requests).toEqual([{ unitId: 1, fn: 'input', addr: 0, count: 0x4c }]);
  });

  it('never lets two meters on one gateway overlap their requests', async () => {
    const sim = await simulator({ delayMs: 15 });
    sim.load(1, recorded);
    sim.load(2, recorded);
    const pool = new LinkPool(quiet);
    defer(() => pool.closeAll());
    const at = { transport: 'tcp' as const, host: '127.0.0.1', port: sim.port };
    const a = pool.get(at);
    const b = pool.get(at);
    expect(a).toBe(b);
    const reads = Array.from({ length: 10 }, (_, i) => readMeter(i % 2 ? a : b, sdm630, (i % 2) + 1, 1000));
    const results = await Promise.all(reads);
    expect(results.every((r) => r.powerW === 3456.7)).toBe(true);
    expect(sim.requests.length).toBe(10);
    expect(sim.maxInFlight).toBe(1);
  });

  it('would overlap without the shared queue (the check above can fail)', async () => {
    const sim = await simulator({ delayMs: 15 });
    sim.load(1, recorded);
    const at = { transport: 'tcp' as const, host: '127.0.0.1', port: sim.port };
    await Promise.all([readMeter(link(at), sdm630, 1, 1000), readMeter(link(at), sdm630, 1, 1000)]);
    expect(sim.maxInFlight).toBe(2);
  });

  it('fails fast while a refused connection waits out its backoff, then reconnects', async () => {
    const port = await freePort();
    const l = link({ transport: 'tcp', host: '127.0.0.1', port }, { initialMs: 300, maxMs: 1000 });
    const req = { unitId: 1, fn: 'input' as const, addr: 0, count: 2, timeoutMs: 200 };
    await expect(l.read(req)).rejects.toThrow(/cannot connect/);
    const t0 = Date.now();
    const early = await l.read(req).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(DeviceError);
    expect((early as DeviceError).retryable).toBe(true);
    expect((early as DeviceError).message).toMatch(/not connected .*next attempt in/);
    expect(Date.now() - t0).toBeLessThan(100);

    const sim = await simulator({ port });
    sim.load(1, recorded);
    await new Promise((r) => setTimeout(r, 350));
    expect(await l.read(req)).toEqual([0x4366, 0x199a]);
  });

  it('reconnects after the device closes the connection', async () => {
    const sim = await simulator();
    sim.load(1, recorded);
    const l = link({ transport: 'tcp', host: '127.0.0.1', port: sim.port }, { initialMs: 50, maxMs: 200 });
    const req = { unitId: 1, fn: 'input' as const, addr: 0, count: 2, timeoutMs: 300 };
    expect(await l.read(req)).toEqual([0x4366, 0x199a]);
    await sim.stop();
    await expect(l.read(req)).rejects.toBeInstanceOf(DeviceError);
    await sim.listen(sim.port);
    let answer: number[] | null = null;
    for (let i = 0; i < 40 && !answer; i++) {
      answer = await l.read(req).catch(() => null);
      if (!answer) await new Promise((r) => setTimeout(r, 50));
    }
    expect(answer).toEqual([0x4366, 0x199a]);
  });

  it('times out on a silent unit without holding up another bus', async () => {
    const silent = await simulator();
    silent.load(1, recorded);
    silent.silent.add(1);
    const alive = await simulator();
    alive.load(1, recorded);
    const slow = link({ transport: 'tcp', host: '127.0.0.1', port: silent.port });
    const fast = link({ transport: 'tcp', host: '127.0.0.1', port: alive.port });
    const req = { unitId: 1, fn: 'input' as const, addr: 0, count: 2, timeoutMs: 400 };
    const t0 = Date.now();
    const pending = slow.read(req).catch((e: unknown) => e);
    expect(await fast.read(req)).toEqual([0x4366, 0x199a]);
    expect(Date.now() - t0).toBeLessThan(200);
    const err = await pending;
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as Error).message).toMatch(/unit 1 input registers 0\.\.1: no answer in 400 ms/);
  });

  it('reports an exception reply as a non-retryable device error', async () => {
    const sim = await simulator();
    sim.load(1, recorded);
    const l = link({ transport: 'tcp', host: '127.0.0.1', port: sim.port });
    // Asking for more than a Modbus frame holds makes the server answer with an exception.
    const err = await l.read({ unitId: 1, fn: 'input', addr: 0, count: 200, timeoutMs: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as DeviceError).retryable).toBe(false);
  });
});

describe('RTU over TCP transport', () => {
  it('reads recorded SDM630 registers through a raw RTU gateway', async () => {
    const sim = await simulator({ framing: 'rtu' });
    sim.load(3, recorded);
    const r = await readMeter(link({ transport: 'rtu-over-tcp', host: '127.0.0.1', port: sim.port }), sdm630, 3, 1000);
    expect(r.powerW).toBe(3456.7);
    expect(r.voltageV).toEqual([230.1, 231.4, 229.8]);
  });

  it('keeps the connection and serves the next unit after one unit on the bus stays silent', async () => {
    const sim = await simulator({ framing: 'rtu', delayMs: 5 });
    sim.load(1, recorded);
    sim.load(2, recorded);
    sim.silent.add(2);
    const l = link({ transport: 'rtu-over-tcp', host: '127.0.0.1', port: sim.port });
    const results = await Promise.allSettled([
      readMeter(l, sdm630, 2, 200), readMeter(l, sdm630, 1, 1000), readMeter(l, sdm630, 2, 200), readMeter(l, sdm630, 1, 1000),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(sim.maxInFlight).toBe(1);
  });
});
