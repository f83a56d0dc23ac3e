import { describe, expect, it } from 'vitest';
import { energyAt, energyCurve } from './energy.js';
import { priceSession, type SessionData } from './pricing.js';
import type { TariffDef } from './tariff.js';
import { localToUtc, monthRange } from './time.js';
import { overlaps, segments, windowAt, type TouWindow } from './tou.js';
import { localTime } from './time.js';

const TZ = 'Europe/Berlin';
const ALL = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as TouWindow['days'];
const ms = (iso: string) => Date.parse(iso);

const tariff = (over: Partial<TariffDef> = {}): TariffDef => ({
  name: 't', currency: 'EUR', pricePerKwh: '0', pricePerMinute: '0', sessionFee: '0', timeFeeMode: 'always', graceMinutes: 0,
  minimumAmount: null, maximumAmount: null, vatPct: '0', timeOfUse: [], chargerIds: [], connectorIds: [], userIds: [], groupIdTags: [],
  ...over,
});

describe('the site clock', () => {
  it('turns local times into UTC across daylight saving changes', () => {
    // 2026-03-10 is a Tuesday in CET (UTC+1).
    expect(new Date(localToUtc(2026, 3, 10, 22 * 60, TZ)).toISOString()).toBe('2026-03-10T21:00:00.000Z');
    // Spring forward: 02:30 does not exist on 29 March; it is read as 03:30 CEST.
    expect(new Date(localToUtc(2026, 3, 29, 150, TZ)).toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(new Date(localToUtc(2026, 3, 29, 180, TZ)).toISOString()).toBe('2026-03-29T01:00:00.000Z');
    // Fall back: 02:30 happens twice on 25 October; the first one counts.
    expect(new Date(localToUtc(2026, 10, 25, 150, TZ)).toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(localTime(ms('2026-03-10T21:00:00Z'), TZ)).toMatchObject({ weekday: 1, minute: 22 * 60 });
  });

  it('gives a month as local midnights in UTC', () => {
    const r = monthRange('2026-03', TZ);
    expect(new Date(r.fromMs).toISOString()).toBe('2026-02-28T23:00:00.000Z');
    expect(new Date(r.toMs).toISOString()).toBe('2026-03-31T22:00:00.000Z');
  });
});

describe('time-of-use windows', () => {
  it('lets a window that crosses midnight cover the early hours of the next day only', () => {
    const fri = [{ days: ['Fri'], from: '22:00', to: '06:00' }] as TouWindow[];
    expect(windowAt(fri, localTime(ms('2026-03-13T21:30:00Z'), TZ))).toBe(0); // Fri 22:30
    expect(windowAt(fri, localTime(ms('2026-03-14T02:00:00Z'), TZ))).toBe(0); // Sat 03:00
    expect(windowAt(fri, localTime(ms('2026-03-14T05:00:00Z'), TZ))).toBe(null); // Sat 06:00
    expect(windowAt(fri, localTime(ms('2026-03-14T22:00:00Z'), TZ))).toBe(null); // Sat 23:00
    expect(windowAt(fri, localTime(ms('2026-03-15T02:00:00Z'), TZ))).toBe(null); // Sun 03:00
  });

  it('cuts a session at window edges in local time', () => {
    const night = [{ days: ALL, from: '22:00', to: '06:00' }];
    const segs = segments(ms('2026-03-10T20:00:00Z'), ms('2026-03-11T06:00:00Z'), night, TZ);
    expect(segs.map((s) => [new Date(s.fromMs).toISOString().slice(11, 16), new Date(s.toMs).toISOString().slice(11, 16), s.window]))
      .toEqual([['20:00', '21:00', null], ['21:00', '05:00', 0], ['05:00', '06:00', null]]);
  });

  it('finds windows that overlap on the same day, also past midnight and past Sunday', () => {
    const w = (days: string[], from: string, to: string) => ({ days, from, to }) as TouWindow;
    expect(overlaps([w(['Mon'], '08:00', '12:00'), w(['Mon'], '11:00', '13:00')])).toEqual([{ index: 1, other: 0, day: 'Mon' }]);
    expect(overlaps([w(['Mon'], '22:00', '06:00'), w(['Tue'], '05:00', '07:00')])).toEqual([{ index: 1, other: 0, day: 'Tue' }]);
    expect(overlaps([w(['Mon'], '22:00', '06:00'), w(['Tue'], '06:00', '08:00')])).toEqual([]);
    expect(overlaps([w(['Sun'], '22:00', '06:00'), w(['Mon'], '05:00', '07:00')])).toEqual([{ index: 1, other: 0, day: 'Mon' }]);
    expect(overlaps([w(['Sat', 'Sun'], '00:00', '24:00'), w(['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], '00:00', '24:00')])).toEqual([]);
  });
});

describe('energy split by samples', () => {
  it('interpolates the register linearly between samples', () => {
    const curve = energyCurve(ms('2026-03-10T20:00:00Z'), 0, ms('2026-03-10T22:00:00Z'), 6000, [
      { ms: ms('2026-03-10T20:30:00Z'), value: 2000 }, { ms: ms('2026-03-10T21:30:00Z'), value: 5000 },
    ]);
    expect(energyAt(curve, ms('2026-03-10T21:00:00Z'))).toBe(3_500_000n);
    expect(energyAt(curve, ms('2026-03-10T21:45:00Z'))).toBe(5_500_000n);
  });

  it('takes readings that all lie below meterStart as counted from the session start', () => {
    const curve = energyCurve(0, 50_000, 4000, 56_000, [{ ms: 1000, value: 2000 }, { ms: 3000, value: 5000 }]);
    expect(curve.map((p) => p.mWh)).toEqual([50_000_000n, 52_000_000n, 55_000_000n, 56_000_000n]);
    // Readings past the stop reading or going backwards are clamped: the total stays meterStop - meterStart.
    const odd = energyCurve(0, 0, 4000, 6000, [{ ms: 1000, value: 3000 }, { ms: 2000, value: 2000 }, { ms: 3000, value: 9000 }]);
    expect(odd.map((p) => p.mWh)).toEqual([0n, 3_000_000n, 3_000_000n, 6_000_000n, 6_000_000n]);
  });

  it('prices 3.5 kWh before 23:00 at 0.40 and 2.5 kWh after at 0.20: 1.90', () => {
    const s: SessionData = {
      startMs: ms('2026-03-10T20:00:00Z'), stopMs: ms('2026-03-10T22:00:00Z'), meterStartWh: 0, meterStopWh: 6000, accepted: true, power: [],
      energy: [{ ms: ms('2026-03-10T20:30:00Z'), value: 2000 }, { ms: ms('2026-03-10T21:30:00Z'), value: 5000 }],
    };
    const t = tariff({ pricePerKwh: '0.40', timeOfUse: [{ days: ALL, from: '22:00', to: '06:00', pricePerKwh: '0.20', pricePerMinute: null }] });
    const b = priceSession(t, s, { timezone: TZ, idleBelowW: 100 });
    expect(b.lines.map((l) => [l.quantity, l.price, l.amount])).toEqual([['3.5', '0.4', '1.4'], ['2.5', '0.2', '0.5']]);
    expect(b.amount).toBe('1.90');
  });

  it('charges the idle fee only for idle time past the grace period', () => {
    const at = (hm: string) => ms(`2026-03-10T${hm}:00Z`);
    const s: SessionData = {
      startMs: at('10:00'), stopMs: at('12:30'), meterStartWh: 0, meterStopWh: 11000, accepted: true,
      energy: [{ ms: at('10:30'), value: 5500 }, { ms: at('11:00'), value: 11000 }, { ms: at('12:00'), value: 11000 }],
      power: [{ ms: at('10:00'), value: 11000 }, { ms: at('10:30'), value: 11000 }, { ms: at('11:00'), value: 0 }, { ms: at('12:00'), value: 0 }],
    };
    const t = tariff({ pricePerKwh: '0.30', pricePerMinute: '0.10', timeFeeMode: 'idleAfterGrace', graceMinutes: 30 });
    const b = priceSession(t, s, { timezone: TZ, idleBelowW: 100 });
    // 11 kWh × 0.30 = 3.30; idle 11:00-12:30 is 90 min, 30 free, 60 × 0.10 = 6.00.
    expect(b.lines.find((l) => l.kind === 'time')).toMatchObject({ quantity: '60', amount: '6' });
    expect(b.amount).toBe('9.30');
    const charging = priceSession({ ...t, timeFeeMode: 'charging' }, s, { timezone: TZ, idleBelowW: 100 });
    expect(charging.amount).toBe('9.30'); // 60 min charging × 0.10 + 3.30
    const always = priceSession({ ...t, timeFeeMode: 'always' }, s, { timezone: TZ, idleBelowW: 100 });
    expect(always.amount).toBe('18.30'); // 150 min × 0.10 + 3.30
  });

  it('rounds once, half-up, after the caps, and shows the VAT share of the gross amount', () => {
    const s: SessionData = { startMs: 0, stopMs: 3_600_000, meterStartWh: 0, meterStopWh: 12345, accepted: true, energy: [], power: [] };
    const base = tariff({ pricePerKwh: '0.30', sessionFee: '1.00', vatPct: '19' });
    const b = priceSession(base, s, { timezone: TZ, idleBelowW: 100 });
    expect([b.subtotal, b.amount, b.vatAmount, b.netAmount]).toEqual(['4.7035', '4.70', '0.75', '3.95']);
    expect(priceSession({ ...base, minimumAmount: '5' }, s, { timezone: TZ, idleBelowW: 100 })).toMatchObject({ amount: '5.00', cap: 'minimum' });
    expect(priceSession({ ...base, maximumAmount: '4.5' }, s, { timezone: TZ, idleBelowW: 100 })).toMatchObject({ amount: '4.50', cap: 'maximum' });
    expect(priceSession({ ...base, currency: 'JPY', pricePerKwh: '30', sessionFee: '100' }, s, { timezone: TZ, idleBelowW: 100 }).amount).toBe('470');
  });
});
