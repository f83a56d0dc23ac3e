import { PHASES, VOLTS, type Room } from './allocate.js';
import { chargersBelow, type CircuitConfig, type LoadBalancingConfig, type Phase } from './config.js';
import type { ConnectorState } from './state.js';

export interface MeterState { currentA: number[]; powerW: number | null; at: number }

export interface RoomInputs {
  cfg: LoadBalancingConfig;
  circuits: Array<{ circuit: CircuitConfig }>;
  connectors: Iterable<ConnectorState>;
  meters: Map<string, MeterState>;
  /** Whether the charger is connected and takes its limits (Smart Charging answered and obeyed). */
  online: (chargerId: string) => boolean;
  steerable: (chargerId: string) => boolean;
  now: number;
}

/** A connector's measured draw on a site phase, A. */
export function drawOn(c: ConnectorState, p: Phase): number {
  if (!c.measured) return 0;
  return c.measured.length === 1 ? c.measured[0]! : c.measured[c.wiring.phases.indexOf(p)] ?? 0;
}


/**
 * The room each circuit has for the steered connectors, per phase: its limit, less the building's other
 * load (with a fresh meter), less what it cannot steer; and which circuit meters are fresh.
 */
export function computeRooms(x: RoomInputs): { rooms: Map<string, Room>; meterFresh: Map<string, { fresh: boolean; circuitId: string }> } {
  const { cfg, now } = x;
  const zero = () => new Map<string, Record<Phase, number>>(x.circuits.map(({ circuit }) => [circuit.id, { L1: 0, L2: 0, L3: 0 }]));
  const fixed = zero();
  const drawn = zero();
  const drawnW = new Map<string, number>(x.circuits.map(({ circuit }) => [circuit.id, 0]));
  const steered = new Map<string, number>(x.circuits.map(({ circuit }) => [circuit.id, 0]));
  for (const c of x.connectors) {
    if (!c.tx) continue;
    const online = x.online(c.chargerId);
    // A charger that cannot be steered may draw its full current; one that went offline keeps its last limit until it expires.
    const reserve = !online ? (c.validTo > now ? Math.max(c.offered ?? 0, cfg.failsafeCurrent) : cfg.failsafeCurrent)
      : !x.steerable(c.chargerId) ? c.wiring.maxCurrent : null;
    for (const p of c.carPhases) {
      const draw = drawOn(c, p);
      for (const id of c.wiring.circuitPath) {
        drawn.get(id)![p] += draw;
        drawnW.set(id, drawnW.get(id)! + draw * VOLTS);
        if (reserve !== null) fixed.get(id)![p] += reserve;
      }
    }
    if (reserve === null) for (const id of c.wiring.circuitPath) steered.set(id, steered.get(id)! + 1);
  }
  const rooms = new Map<string, Room>();
  const meterFresh = new Map<string, { fresh: boolean; circuitId: string }>();
  for (const { circuit } of x.circuits) {
    const amps: Record<Phase, number> = { L1: 0, L2: 0, L3: 0 };
    const onCircuit: Phase[] = circuit.phases === 1 ? ['L1'] : PHASES;
    const m = circuit.meter ? x.meters.get(circuit.meter) : undefined;
    const fresh = m && now - m.at <= cfg.meterStaleAfter;
    if (circuit.meter) meterFresh.set(circuit.meter, { fresh: Boolean(fresh), circuitId: circuit.id });
    for (const p of onCircuit) {
      let limit = circuit.maxCurrent;
      if (circuit.meter) {
        if (fresh) {
          // The rest of the building: what the meter sees minus what the chargers below draw.
          const other = Math.max(0, (m.currentA[PHASES.indexOf(p)] ?? 0) - drawn.get(circuit.id)![p]);
          limit = circuit.maxCurrent - other;
        } else {
          limit = Math.min(circuit.maxCurrent, cfg.failsafeCurrent * chargersBelow(circuit));
        }
      }
      amps[p] = Math.max(0, limit - fixed.get(circuit.id)![p]);
    }
    if (circuit.solar !== 'off') {
      // What the chargers may take from the sun: what they draw now plus what the site still exports (negative grid power).
      const surplusW = fresh && m.powerW !== null ? drawnW.get(circuit.id)! - m.powerW : 0;
      const perPhase = Math.max(0, surplusW) / (VOLTS * onCircuit.length);
      const floor = circuit.solar === 'min+surplus' ? cfg.minCurrent * steered.get(circuit.id)! : 0;
      for (const p of onCircuit) amps[p] = Math.min(amps[p], Math.max(perPhase, floor));
    }
    rooms.set(circuit.id, { id: circuit.id, amps, watts: circuit.maxPower ?? null });
  }
  return { rooms, meterFresh };
}
