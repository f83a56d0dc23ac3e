import { describe, expect, it } from 'vitest';
import { availabilityPct, faultCount, mtbfHours, segments, stateSeconds, type TimelineInput } from './timeline.js';

const H = 3_600_000;
const day = Date.parse('2025-03-10T00:00:00Z');
const at = (hours: number) => day + hours * H;

// A scripted day of one charger with two connectors:
//  00:00 registered and connected, both connectors Available
//  08:00 connector 1 Charging      10:00 connector 1 Available
//  12:00 connector 2 Faulted (GroundFailure)   13:30 connector 2 Available
//  15:00 connector 2 Faulted again, resent at 15:10 (same fault)  16:00 Available
//  18:00 socket closed   19:00 reconnected, statuses resent Available
//  21:00 connector 0 Unavailable (whole charger taken out)   22:00 connector 0 Available
const scripted: TimelineInput = {
  registeredAtMs: at(0),
  links: [{ atMs: at(0), online: true }, { atMs: at(18), online: false }, { atMs: at(19), online: true }],
  statuses: [
    { atMs: at(0), connectorId: 1, status: 'Available' }, { atMs: at(0), connectorId: 2, status: 'Available' },
    { atMs: at(8), connectorId: 1, status: 'Charging' }, { atMs: at(10), connectorId: 1, status: 'Available' },
    { atMs: at(12), connectorId: 2, status: 'Faulted' }, { atMs: at(13.5), connectorId: 2, status: 'Available' },
    { atMs: at(15), connectorId: 2, status: 'Faulted' }, { atMs: at(15 + 1 / 6), connectorId: 2, status: 'Faulted' },
    { atMs: at(16), connectorId: 2, status: 'Available' },
    { atMs: at(19), connectorId: 1, status: 'Available' }, { atMs: at(19), connectorId: 2, status: 'Available' },
    { atMs: at(21), connectorId: 0, status: 'Unavailable' }, { atMs: at(22), connectorId: 0, status: 'Available' },
  ],
};

describe('availability arithmetic', () => {
  it('counts a scripted day of states to the second, as checked by hand', () => {
    const sec = stateSeconds(segments(scripted, at(0), at(24)));
    // available: 0-8, 10-12, 13.5-15, 16-18, 19-21, 22-24 = 8+2+1.5+2+2+2 = 17.5 h
    // charging: 8-10 = 2 h; faulted: 12-13.5 and 15-16 = 2.5 h; offline: 18-19 = 1 h; unavailable: 21-22 = 1 h
    expect(sec).toEqual({ available: 17.5 * 3600, charging: 2 * 3600, faulted: 2.5 * 3600, offline: 3600, unavailable: 3600 });
    // (17.5 + 2) / 24 = 81.25 %
    expect(availabilityPct(sec)).toBe(81.25);
    // The resent Faulted at 15:10 is the same fault: two faults in the day.
    expect(faultCount(scripted, at(0), at(24))).toBe(2);
    // Up-time 19.5 h over 2 faults.
    expect(mtbfHours(sec, 2)).toBe(9.75);
  });

  it('counts one connector on its own, with connector 0 speaking for it', () => {
    const c1 = stateSeconds(segments(scripted, at(0), at(24), 1));
    // 24 h - charging 2 h - offline 1 h - unavailable (connector 0) 1 h = 20 h available; (20 + 2) / 24 = 91.67 %
    expect(c1).toEqual({ available: 20 * 3600, charging: 2 * 3600, faulted: 0, offline: 3600, unavailable: 3600 });
    expect(availabilityPct(c1)).toBe(91.67);
    expect(faultCount(scripted, at(0), at(24), 1)).toBe(0);
    expect(faultCount(scripted, at(0), at(24), 2)).toBe(2);
  });

  it('leaves out the time before the charger was registered', () => {
    const late = { ...scripted, registeredAtMs: at(12) };
    const sec = stateSeconds(segments(late, at(0), at(24)));
    // 12:00-24:00 only: available 13.5-15, 16-18, 19-21, 22-24 = 7.5 h; faulted 2.5 h; offline 1 h; unavailable 1 h.
    expect(sec).toEqual({ available: 7.5 * 3600, charging: 0, faulted: 2.5 * 3600, offline: 3600, unavailable: 3600 });
    expect(availabilityPct(sec)).toBe(62.5);
  });

  it('takes the starting state from changes before the window', () => {
    const sec = stateSeconds(segments(scripted, at(12.5), at(14)));
    expect(sec).toEqual({ available: 1800, charging: 0, faulted: 3600, offline: 0, unavailable: 0 });
    expect(faultCount(scripted, at(12.5), at(14))).toBe(0);
  });

  it('counts a charger that never connected as offline, and an empty window as no data', () => {
    const never: TimelineInput = { registeredAtMs: at(0), links: [], statuses: [] };
    expect(stateSeconds(segments(never, at(0), at(2)))).toMatchObject({ offline: 7200, available: 0 });
    expect(availabilityPct(stateSeconds(segments(never, at(0), at(2))))).toBe(0);
    expect(availabilityPct(stateSeconds(segments(never, at(-5), at(0))))).toBeNull();
    expect(mtbfHours({ available: 10, charging: 0, faulted: 0, offline: 0, unavailable: 0 }, 0)).toBeNull();
  });
});
