import { describe, expect, it } from 'vitest';
import { allocate, type Demand, type Room } from './allocate.js';

const room = (id: string, amps: number, watts: number | null = null): Room => ({ id, amps: { L1: amps, L2: amps, L3: amps }, watts });
const car = (key: string, path: string[], wish = 32, extra: Partial<Demand> = {}): Demand => ({ key, path, phases: ['L1', 'L2', 'L3'], wish, priority: 0, rank: 0, ...extra });
const shares = (m: Map<string, number>) => Object.fromEntries(m);

describe('loadbalancing: fair shares', () => {
  it('shares a circuit equally, and gives what a car does not take to the others', () => {
    expect(shares(allocate([room('main', 32)], [car('a', ['main']), car('b', ['main']), car('c', ['main'])], 6))).toEqual({ a: 10.6, b: 10.6, c: 10.6 });
    expect(shares(allocate([room('main', 32)], [car('a', ['main'], 8), car('b', ['main']), car('c', ['main'])], 6))).toEqual({ a: 8, b: 12, c: 12 });
  });

  it('respects every level of the tree: a full sub-circuit leaves the rest to the others', () => {
    const rooms = [room('main', 40), room('garage', 12)];
    const got = allocate(rooms, [car('g1', ['main', 'garage']), car('g2', ['main', 'garage']), car('x', ['main']), car('y', ['main'])], 6);
    expect(shares(got)).toEqual({ g1: 6, g2: 6, x: 14, y: 14 });
  });

  it('counts phases: a 1-phase car shares only its phase', () => {
    const got = allocate([room('main', 16)], [car('one', ['main'], 32, { phases: ['L1'] }), car('three', ['main']), car('two', ['main'], 32, { phases: ['L2'] })], 6);
    // L1 and L2 are each shared by two cars: 8 A each, and the 3-phase car can take no more than its most loaded phase.
    expect(shares(got)).toEqual({ one: 8, three: 8, two: 8 });
    expect(shares(allocate([room('main', 16)], [car('one', ['main'], 32, { phases: ['L1'] }), car('other', ['main'], 32, { phases: ['L2'] })], 6))).toEqual({ one: 16, other: 16 });
  });

  it('keeps a kW cap of the circuit', () => {
    expect(shares(allocate([room('main', 32, 11_000)], [car('a', ['main']), car('b', ['main'])], 6))).toEqual({ a: 7.9, b: 7.9 });
  });

  it('pauses cars from the end of the rank order when there is not enough for all at minCurrent', () => {
    const cars = ['a', 'b', 'c', 'd', 'e', 'f'].map((k, i) => car(k, ['main'], 32, { rank: i }));
    expect(shares(allocate([room('main', 32)], cars, 6))).toEqual({ a: 6.4, b: 6.4, c: 6.4, d: 6.4, e: 6.4, f: 0 });
    // A different rank order (rotation) pauses another car.
    const rotated = cars.map((c, i) => ({ ...c, rank: (i + 1) % 6 }));
    expect(shares(allocate([room('main', 32)], rotated, 6))).toMatchObject({ e: 0, f: 6.4 });
  });

  it('serves a higher priority first and gives the rest to the others', () => {
    const got = allocate([room('main', 32)], [
      car('staff1', ['main'], 12, { priority: 1 }), car('staff2', ['main'], 12, { priority: 1 }),
      car('visitor1', ['main'], 32, { rank: 0 }), car('visitor2', ['main'], 32, { rank: 1 }),
    ], 6);
    expect(shares(got)).toEqual({ staff1: 12, staff2: 12, visitor1: 8, visitor2: 0 });
  });

  it('allocates 200 connectors in a deep tree', () => {
    const rooms = [room('main', 400)];
    const demands: Demand[] = [];
    for (let g = 0; g < 10; g++) {
      rooms.push(room(`g${g}`, 60));
      for (let s = 0; s < 2; s++) {
        rooms.push(room(`g${g}s${s}`, 35));
        for (let k = 0; k < 10; k++) demands.push(car(`c${g}-${s}-${k}`, ['main', `g${g}`, `g${g}s${s}`], 16 + (k % 3) * 8, { rank: k }));
      }
    }
    const t0 = performance.now();
    const got = allocate(rooms, demands, 6);
    const took = performance.now() - t0;
    // 400 A is not enough for 200 cars at 6 A: as many as fit (66) charge, each at 6 A or more; no circuit is over.
    const charging = [...got.values()].filter((a) => a > 0);
    expect(charging).toHaveLength(66);
    expect(Math.min(...charging)).toBeGreaterThanOrEqual(6);
    const sum = (prefix: string) => demands.filter((d) => d.path.includes(prefix)).reduce((s, d) => s + got.get(d.key)!, 0);
    expect(sum('main')).toBeLessThanOrEqual(400);
    for (let g = 0; g < 10; g++) {
      expect(sum(`g${g}`)).toBeLessThanOrEqual(60);
      expect(sum(`g${g}s0`)).toBeLessThanOrEqual(35);
    }
    // Not a timing assertion (the bench measures it): a sanity bound that a quadratic search would break.
    expect(took).toBeLessThan(2000);
  });
});
