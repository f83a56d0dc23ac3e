/**
 * `npm run bench -- --only allocate` (or `tsx bench/allocate.ts`): how long
 * the load balancer's fair-share computation takes for a site of 200
 * connectors in a three-level tree of circuits, with and without enough
 * current for every car at minCurrent. Pure computation, in this process.
 */
import { allocate, type Demand, type Room } from '../plugins/loadbalancing/allocate.js';

const room = (id: string, amps: number): Room => ({ id, amps: { L1: amps, L2: amps, L3: amps }, watts: null });

/** 10 groups × 2 sub-circuits × 10 connectors = 200, every car on main → group → sub-circuit. */
function site(mainAmps: number): { rooms: Room[]; demands: Demand[] } {
  const rooms = [room('main', mainAmps)];
  const demands: Demand[] = [];
  for (let g = 0; g < 10; g++) {
    rooms.push(room(`g${g}`, mainAmps / 5));
    for (let s = 0; s < 2; s++) {
      rooms.push(room(`g${g}s${s}`, mainAmps / 8));
      for (let k = 0; k < 10; k++) {
        demands.push({
          key: `c${g}-${s}-${k}`, path: ['main', `g${g}`, `g${g}s${s}`], phases: k % 4 === 0 ? ['L1'] : ['L1', 'L2', 'L3'],
          wish: 8 + (k % 4) * 8, priority: k % 5 === 0 ? 1 : 0, rank: k,
        });
      }
    }
  }
  return { rooms, demands };
}

export function allocateBench(log: (line?: string) => void, runs = 200): void {
  log('## Load balancing: fair shares for 200 connectors in a three-level tree (1 main, 10 groups, 20 sub-circuits)');
  log('| case | p50 | p99 | max |');
  log('| --- | ---: | ---: | ---: |');
  for (const [name, amps] of [['enough for all', 4000], ['short: cars paused and rotated', 600]] as const) {
    const { rooms, demands } = site(amps);
    for (let i = 0; i < 20; i++) allocate(rooms, demands, 6); // warm-up
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      allocate(rooms, demands, 6);
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!.toFixed(2);
    log(`| ${name} | ${q(0.5)} ms | ${q(0.99)} ms | ${ms.at(-1)!.toFixed(2)} ms |`);
  }
  log();
}

if (import.meta.url === `file://${process.argv[1]}`) allocateBench((l = '') => console.log(l));
