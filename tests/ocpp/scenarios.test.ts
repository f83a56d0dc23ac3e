import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TestApp, type TestChargePoint, useApp } from '../kit/index.js';

const dir = join(import.meta.dirname, 'scenarios');
const cases = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** Replaces "$now", "$now-90m" and "$tx" in a scenario value. */
function resolve(value: unknown, now: number, tx: number | null): unknown {
  if (typeof value === 'string') {
    if (value === '$tx') return tx;
    const m = /^\$now(?:-(\d+)([smh]))?$/.exec(value);
    if (m) return new Date(now - (m[1] ? Number(m[1]) * UNITS[m[2]!]! : 0)).toISOString();
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, now, tx));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, now, tx)]));
  return value;
}

/** "$any" in an expectation matches anything. */
function expectation(value: unknown): unknown {
  if (value === '$any') return expect.anything();
  if (Array.isArray(value)) return value.map(expectation);
  if (value && typeof value === 'object') return expect.objectContaining(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expectation(v)])));
  return value;
}

let t: TestApp | undefined;
const apps = useApp();

describe('OCPP 1.6J scenarios', () => {
  it.each(cases)('%s', async (name) => {
    t = await apps.start();
    const messages = lines(join(dir, name, 'messages.jsonl'));
    const expected = lines(join(dir, name, 'expected.jsonl'));
    const now = Date.now();
    const chargerId = `SCN-${name}`.slice(0, 40);
    let cp: TestChargePoint = await t.chargePoint(chargerId, { strict: false });
    let tx: number | null = null;
    let e = 0;
    for (const msg of messages) {
      if (!Array.isArray(msg)) {
        await cp.close({ code: 1001 });
        cp = await t.chargePoint(chargerId, { strict: false });
        continue;
      }
      const [action, payload] = msg as [string, unknown];
      const want = expected[e++] as { result?: Record<string, unknown>; error?: string };
      let got: { result?: unknown; error?: string };
      try {
        got = { result: await cp.call(action, resolve(payload, now, tx)) };
      } catch (err) {
        got = { error: (err as { rpcErrorCode?: string }).rpcErrorCode ?? String(err) };
      }
      const txInReply = (got.result as { transactionId?: number } | undefined)?.transactionId;
      if (typeof txInReply === 'number') tx ??= txInReply;
      if (want.error) expect(got, `${action} (line ${e})`).toEqual({ error: want.error });
      else {
        expect(got.error, `${action} (line ${e}) answered a CALLERROR`).toBeUndefined();
        expect(got.result, `${action} (line ${e}) answered ${JSON.stringify(got)}`).toEqual(expectation(resolve(want.result, now, tx)));
      }
    }
    await t.app.bus.idle();
    for (const check of expected.slice(e) as Array<Record<string, unknown>>) {
      if (check.events) {
        for (const [event, count] of Object.entries(check.events as Record<string, number>)) {
          expect(t.seen(event as never).filter((x: { chargerId?: string }) => x.chargerId === chargerId), event).toHaveLength(count);
        }
      }
      if (check.transactions) {
        const txs = (await t.api('GET', `/transactions?chargerId=${chargerId}`)).body;
        expect(txs).toEqual(expectation(resolve(check.transactions, now, tx)));
      }
      if (check.connectors) {
        const charger = (await t.api('GET', `/chargers/${chargerId}`)).body;
        expect(charger.connectors).toEqual(expectation(resolve(check.connectors, now, tx)));
      }
    }
  });
});
