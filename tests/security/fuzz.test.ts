import { beforeAll, describe, expect, it } from 'vitest';
import { rawCharger, type RawCharger, type TestApp, useApp } from '../kit/index.js';

/** A small seeded generator, so a failing run can be replayed with the seed it prints. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const now = () => new Date().toISOString();
/** Valid calls, the seeds for mutation. */
const SEEDS: Array<[string, () => Record<string, unknown>]> = [
  ['BootNotification', () => ({ chargePointVendor: 'V', chargePointModel: 'M' })],
  ['Heartbeat', () => ({})],
  ['StatusNotification', () => ({ connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: now() })],
  ['Authorize', () => ({ idTag: 'TAG1' })],
  ['StartTransaction', () => ({ connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: now() })],
  ['MeterValues', () => ({ connectorId: 1, transactionId: 1, meterValue: [{ timestamp: now(), sampledValue: [{ value: '12', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] })],
  ['StopTransaction', () => ({ transactionId: 1, meterStop: 10, timestamp: now() })],
  ['DataTransfer', () => ({ vendorId: 'X', messageId: 'm', data: 'd' })],
  ['DiagnosticsStatusNotification', () => ({ status: 'Uploaded' })],
  ['FirmwareStatusNotification', () => ({ status: 'Installed' })],
];

const ODD_VALUES: unknown[] = [
  null, -1, 0, 2 ** 31, 1e308, -0.5, NaN, '', 'x'.repeat(300), '\u0000\n\r', '2026-99-99T99:99:99Z', [], {}, [[[]]],
  { __proto__: { polluted: true } }, { constructor: { prototype: { polluted: true } } }, true, '__proto__', '😀'.repeat(50),
];

function mutate(value: unknown, rnd: () => number, depth = 0): unknown {
  const pick = <T,>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  if (rnd() < 0.15 || depth > 3) return pick(ODD_VALUES);
  if (Array.isArray(value)) return value.map((v) => mutate(v, rnd, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (rnd() < 0.1) continue; // drop a field
      out[rnd() < 0.05 ? `${k}x` : k] = rnd() < 0.4 ? mutate(v, rnd, depth + 1) : v;
    }
    if (rnd() < 0.1) out[pick(['extra', '__proto__', 'constructor', 'transactionId'])] = pick(ODD_VALUES);
    return out;
  }
  return rnd() < 0.3 ? pick(ODD_VALUES) : value;
}

/** One frame: mostly mutated calls, some broken envelopes, some garbage. */
function frame(rnd: () => number, n: number): string {
  const r = rnd();
  const [action, payload] = SEEDS[Math.floor(rnd() * SEEDS.length)]!;
  if (r < 0.05) return Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256))).toString('latin1');
  if (r < 0.1) return JSON.stringify(mutate([2, `f${n}`, action, payload()], rnd));
  if (r < 0.13) return JSON.stringify([3, `f${n}`, payload()]); // a reply nobody asked for
  if (r < 0.15) return JSON.stringify([2, `f${n}`, `${action}Nope`, {}]);
  if (r < 0.17) return `[2,"f${n}","${action}",`; // cut off
  return JSON.stringify([2, `f${n}`, action, mutate(payload(), rnd)]);
}

describe('fuzzing the OCPP edge', () => {
  let t: TestApp;
  const apps = useApp();
  beforeAll(async () => {
    // No rate limit here: every frame should reach validation and the handlers.
    t = await apps.start({ config: { ocpp: { maxMessageRate: 10_000 } } });
  });

  it('survives 10,000 random and mutated frames from five chargers at once while a bystander is served', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 100_000);
    const rnd = prng(seed);
    const bystander = await t.chargePoint('BYSTANDER');
    await bystander.boot();
    const TOTAL = 10_000;
    const CHARGERS = 5;
    let sent = 0;
    let reconnects = 0;
    const bystanderMs: number[] = [];

    const fuzzer = async (index: number) => {
      let cp: RawCharger | null = null;
      for (let n = index; n < TOTAL; n += CHARGERS) {
        if (!cp || cp.ws.readyState !== cp.ws.OPEN) {
          if (cp) reconnects++;
          cp = await rawCharger(t.port, `FUZZ${index}`);
        }
        cp.ws.send(frame(rnd, n));
        sent++;
        // Let the server breathe now and then, as a socket's buffer would.
        if (n % 50 === index) await new Promise((r) => setTimeout(r, 1));
      }
      cp?.ws.close();
    };
    const watcher = (async () => {
      while (sent < TOTAL) {
        const t0 = performance.now();
        await bystander.call('Heartbeat', {});
        bystanderMs.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await Promise.all(Array.from({ length: CHARGERS }, (_, i) => fuzzer(i)));
    await watcher;

    expect(sent, `seed ${seed}`).toBe(TOTAL);
    // Still up, still serving everyone: the bystander, the API, a new charger.
    expect(await bystander.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect((await t.api('GET', '/health')).status).toBe(200);
    const late = await t.chargePoint('LATE');
    expect((await late.boot()).status).toBe('Accepted');
    expect(bystanderMs.length, `seed ${seed}`).toBeGreaterThan(5);
    expect(Math.max(...bystanderMs), `seed ${seed}: slowest bystander heartbeat`).toBeLessThan(3000);
    expect(({} as Record<string, unknown>).polluted, `seed ${seed}: prototype pollution`).toBeUndefined();
    expect(t.logs.filter((l) => l.includes('ERROR')).filter((l) => !l.includes('could not process')), `seed ${seed}`).toEqual([]);
    expect(reconnects, `seed ${seed}`).toBeLessThan(50);
  }, 120_000);
});
