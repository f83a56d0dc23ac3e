import { Type, type Static, type StaticDecode } from '@sinclair/typebox';
import { Duration, Strict, type ConfigProblem } from '../../core/schema.js';

const PHASE = Type.Union([Type.Literal('L1'), Type.Literal('L2'), Type.Literal('L3')]);

/** A charger on a circuit: its id alone (3-phase, wired L1-L2-L3, every connector), or how it is wired. */
export const ChargerEntry = Type.Union([
  Type.String({ minLength: 1, maxLength: 64, description: 'a charger id' }),
  Strict({
    id: Type.String({ minLength: 1, maxLength: 64, description: 'the charger id' }),
    connectorId: Type.Optional(Type.Integer({ minimum: 1, maximum: 16, description: 'only this connector (default: every connector of the charger)' })),
    phases: Type.Union([Type.Literal(1), Type.Literal(3)], { default: 3, description: 'phases the charger is connected with' }),
    phaseOrder: Type.Optional(Type.Array(PHASE, { minItems: 1, maxItems: 3, description: 'the site phases its L1, L2, L3 are wired to, e.g. [L2, L3, L1]; a 1-phase charger: [L2]' })),
    maxCurrent: Type.Optional(Type.Number({ minimum: 6, maximum: 80, 'x-unit': 'A', description: 'A per phase the charger can give at most (default: the plugin\'s chargerMaxCurrent)' })),
  }),
]);

export const CircuitSchema = Type.Recursive((Self) => Strict({
  id: Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 64, description: 'names the circuit in the API and the UI' }),
  maxCurrent: Type.Number({ minimum: 1, maximum: 2000, 'x-unit': 'A', description: 'A per phase the circuit may carry (its fuse)' }),
  maxPower: Type.Optional(Type.Number({ minimum: 100, 'x-unit': 'W', description: 'W the circuit may carry in total, e.g. a contracted power' })),
  phases: Type.Union([Type.Literal(1), Type.Literal(3)], { default: 3, description: 'phases of the circuit; a 1-phase circuit is L1' }),
  meter: Type.Optional(Type.String({ minLength: 1, description: 'a meters[] id measuring the whole circuit: the chargers share the fuse minus the rest of the load' })),
  solar: Type.Union([Type.Literal('off'), Type.Literal('surplus'), Type.Literal('min+surplus')], {
    default: 'off', description: 'with a meter: surplus = charge only from what the site exports; min+surplus = every car at least minCurrent, more from the export',
  }),
  circuits: Type.Array(Self, { default: [], maxItems: 50, description: 'sub-circuits, each with its own limit' }),
  chargers: Type.Array(ChargerEntry, { default: [], maxItems: 500, description: 'chargers fed by this circuit directly' }),
}), { $id: 'Circuit' });

export const PrioritySchema = Strict({
  idTags: Type.Array(Type.String({ minLength: 1, maxLength: 20 }), { minItems: 1, maxItems: 1000, description: 'cards, or group cards (parentIdTag) whose members count too; case is ignored' }),
  priority: Type.Integer({ minimum: 1, maximum: 99, description: 'higher is served first; cards not listed have 0' }),
});
export const PrioritiesSchema = Type.Array(PrioritySchema, { default: [], maxItems: 50, description: 'who is served first, e.g. staff before visitors' });

export const LoadBalancingConfigSchema = Strict({
  minCurrent: Type.Number({ minimum: 0, maximum: 32, default: 6, 'x-unit': 'A', description: 'A per phase; a car offered less is paused (0 A) instead' }),
  failsafeCurrent: Type.Number({ minimum: 0, maximum: 80, default: 6, 'x-unit': 'A', description: 'A per phase every charger keeps when it loses the appliance (its TxDefaultProfile)' }),
  chargerMaxCurrent: Type.Number({ minimum: 6, maximum: 80, default: 32, 'x-unit': 'A', description: 'A per phase a charger gives at most when its entry does not say' }),
  profileValidity: Duration({ default: '5m', description: 'each session limit (TxProfile) expires after this unless refreshed; then the failsafe applies' }),
  minUpdateInterval: Duration({ default: '10s', description: 'a charger\'s limit is raised at most this often (lowering is never delayed)' }),
  hysteresis: Type.Number({ minimum: 0, maximum: 10, default: 1, 'x-unit': 'A', description: 'A; a raise smaller than this is not sent' }),
  rotationSlot: Duration({ default: '15m', description: 'when there is not enough for every car at minCurrent, cars take turns of this long' }),
  meterStaleAfter: Duration({ default: '30s', description: 'a circuit meter silent this long is not trusted; the circuit falls back to failsafe shares' }),
  priorities: PrioritiesSchema,
  boostPriority: Type.Integer({ minimum: 1, maximum: 100, default: 100, description: 'the priority of a session boosted with POST /api/loadbalancing/boost, until it ends' }),
  circuits: Type.Array(CircuitSchema, { default: [], maxItems: 20, description: 'the site\'s supply as a tree of circuits' }),
});

export type LoadBalancingConfig = StaticDecode<typeof LoadBalancingConfigSchema>;
export type CircuitConfig = Static<typeof CircuitSchema>;
export type Phase = Static<typeof PHASE>;
export type Priority = Static<typeof PrioritySchema>;

/** Every circuit of the tree with its path (root first). */
export function walk(circuits: CircuitConfig[], path: CircuitConfig[] = []): Array<{ circuit: CircuitConfig; path: CircuitConfig[] }> {
  return circuits.flatMap((c) => [{ circuit: c, path: [...path, c] }, ...walk(c.circuits, [...path, c])]);
}

/** Chargers listed at this circuit and below it: what its failsafe rule counts. */
export const chargersBelow = (circuit: CircuitConfig) => walk([circuit]).reduce((n, w) => n + w.circuit.chargers.length, 0);

export function validate(c: LoadBalancingConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const ids = new Set<string>();
  const seen = new Map<string, string>();
  const visit = (list: CircuitConfig[], at: string) => list.forEach((circuit, i) => {
    const here = `${at}[${i}]`;
    if (ids.has(circuit.id)) out.push({ path: `${here}.id`, message: `circuit id "${circuit.id}" is used twice` });
    ids.add(circuit.id);
    circuit.chargers.forEach((entry, j) => {
      const id = typeof entry === 'string' ? entry : entry.id;
      const key = typeof entry === 'string' || entry.connectorId === undefined ? `${id}` : `${id}:${entry.connectorId}`;
      const clash = [...seen.keys()].find((k) => k === key || k === id || key === k.split(':')[0]);
      if (clash) out.push({ path: `${here}.chargers[${j}]`, message: `charger ${key} is already on circuit ${seen.get(clash)}` });
      seen.set(key, circuit.id);
      if (typeof entry !== 'string' && entry.phaseOrder && entry.phaseOrder.length !== entry.phases) {
        out.push({ path: `${here}.chargers[${j}].phaseOrder`, message: `expected ${entry.phases} phase(s) for a ${entry.phases}-phase charger, got ${entry.phaseOrder.length}` });
      }
    });
    // Never trip the fuse when the appliance is gone: every charger below at its failsafe must fit.
    const below = chargersBelow(circuit);
    if (below * c.failsafeCurrent > circuit.maxCurrent) {
      out.push({ path: `${here}.maxCurrent`, message: `${below} charger(s) at failsafeCurrent ${c.failsafeCurrent} A need ${below * c.failsafeCurrent} A, more than this circuit's ${circuit.maxCurrent} A; lower failsafeCurrent` });
    }
    if (circuit.solar !== 'off' && !circuit.meter) out.push({ path: `${here}.solar`, message: 'needs the circuit\'s meter (meter: <a meters[] id>) to see the export' });
    visit(circuit.circuits, `${here}.circuits`);
  });
  visit(c.circuits, 'circuits');
  if (c.profileValidity < 10_000) out.push({ path: 'profileValidity', message: `expected at least 10s, got ${c.profileValidity / 1000}s` });
  if (c.rotationSlot < 60_000) out.push({ path: 'rotationSlot', message: `expected at least 1m, got ${c.rotationSlot / 1000}s` });
  return out;
}
