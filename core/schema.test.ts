import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { decode, Duration, parseDuration, Strict } from './schema.js';

describe('config schema helpers', () => {
  it('reads durations in ms, s, m, h and d', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(() => parseDuration('soon')).toThrow(/expected a duration/);
  });

  it('decodes defaults and durations and names each bad key with what was expected and found', () => {
    const schema = Strict({
      offlineAfter: Duration({ default: '3m' }),
      mode: Type.Union([Type.Literal('accept'), Type.Literal('reject')]),
      count: Type.Integer({ minimum: 1 }),
    });
    expect(decode(schema, { mode: 'accept', count: 2 }).value).toEqual({ offlineAfter: 180_000, mode: 'accept', count: 2 });
    const { problems } = decode(schema, { offlineAfter: 'later', mode: 'maybe', count: 0, colour: 'red' }, 'plugins.x');
    expect(problems).toEqual(expect.arrayContaining([
      { path: 'plugins.x.offlineAfter', message: 'expected a duration like 90s, 15m or 2h, got "later"' },
      { path: 'plugins.x.mode', message: 'expected one of accept, reject, got "maybe"' },
      { path: 'plugins.x.count', message: 'expected an integer >= 1, got 0' },
      { path: 'plugins.x.colour', message: 'unknown key; expected one of offlineAfter, mode, count' },
    ]));
  });

  it('reports a missing required key as required', () => {
    const { problems } = decode(Strict({ url: Type.String() }), {}, 'plugins.hook');
    expect(problems).toEqual([{ path: 'plugins.hook.url', message: 'is required (a string)' }]);
  });
});

describe('string formats', () => {
  it('checks date-time, e-mail and URL formats', () => {
    const schema = Strict({ at: Type.String({ format: 'date-time' }), mail: Type.String({ format: 'email' }), url: Type.String({ format: 'uri' }) });
    expect(decode(schema, { at: '2026-05-01T08:00:00Z', mail: 'ops@example.org', url: 'mqtt://127.0.0.1:1883' }).problems).toEqual([]);
    const { problems } = decode(schema, { at: 'yesterday', mail: 'nobody', url: 'not a url' });
    expect(problems.map((p) => p.path)).toEqual(['at', 'mail', 'url']);
    expect(problems[0]!.message).toBe('expected an ISO 8601 date-time like 2026-05-01T08:00:00Z, got "yesterday"');
  });
});
