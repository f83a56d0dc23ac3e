import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log.js';
import { Metrics } from './metrics.js';

describe('metrics registry', () => {
  it('serves the other metrics when one collect() fails, and says so once until it works again', async () => {
    const lines: string[] = [];
    const metrics = new Metrics(createLogger('warn', 'metrics', (l) => lines.push(l)), false);
    let broken = true;
    metrics.gauge({ name: 'chargekeeper_test_broken', help: 'fails while broken', labelNames: ['x'], collect() { if (broken) throw new Error('database is gone'); this.set({ x: 'a' }, 2); } });
    metrics.gauge({ name: 'chargekeeper_test_fine', help: 'always works', async collect() { this.set(7); } });
    const read = async () => new Map(parsePrometheusTextFormat((await metrics.scrape()).text).map((f) => [f.name, f.metrics]));

    for (let i = 0; i < 2; i++) {
      const families = await read();
      expect(families.get('chargekeeper_test_fine')).toEqual([{ value: '7' }]);
      expect(families.get('chargekeeper_test_broken')).toEqual([]);
    }
    expect(lines.filter((l) => l.includes('chargekeeper_test_broken: collect failed: database is gone'))).toHaveLength(1);
    broken = false;
    expect((await read()).get('chargekeeper_test_broken')).toEqual([{ value: '2', labels: { x: 'a' } }]);
  });

  it('keeps plugins to chargekeeper_ names', () => {
    const metrics = new Metrics(createLogger('error', 'metrics', () => undefined), false);
    expect(() => metrics.counter({ name: 'http_requests_total', help: 'not ours' })).toThrow(/starts with chargekeeper_/);
    expect(() => metrics.counter({ name: 'chargekeeper_Bad-Name', help: 'x' })).toThrow(/a-z, 0-9 and _/);
  });
});
