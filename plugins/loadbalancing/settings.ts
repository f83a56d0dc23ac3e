import type { Knex } from 'knex';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import { chargersBelow, walk, type CircuitConfig, type LoadBalancingConfig, type Priority } from './config.js';
import type { Change } from './view.js';

/** A circuit's limits as an installer set them on the Load page. */
export interface CircuitLimits { maxCurrent: number; maxPower: number | null }

interface OverrideRow { kind: 'circuit' | 'priorities'; ref: string; value: string; updated_by: string; updated_at: string }

/**
 * The limits and priorities in force: the site config's, with what an installer changed on the Load page on top.
 * A change is kept in SQLite and survives a restart; "reset" returns to the config.
 */
export function createSettings(db: Knex, clock: Clock, cfg: LoadBalancingConfig) {
  const limits = new Map<string, CircuitLimits & Change>();
  let priorities: (Change & { list: Priority[] }) | null = null;
  let tree = cfg.circuits;

  const configured = new Map(walk(cfg.circuits).map(({ circuit }) => [circuit.id, circuit]));
  const rebuild = () => {
    const apply = (c: CircuitConfig): CircuitConfig => {
      const o = limits.get(c.id);
      const { maxPower: _configuredPower, ...rest } = c;
      const maxPower = o ? o.maxPower : c.maxPower ?? null;
      return { ...rest, ...(o ? { maxCurrent: o.maxCurrent } : {}), ...(maxPower !== null ? { maxPower } : {}), circuits: c.circuits.map(apply) };
    };
    tree = cfg.circuits.map(apply);
  };

  return {
    async load(): Promise<void> {
      for (const r of await db<OverrideRow>('loadbalancing_overrides')) {
        const change = { by: r.updated_by, at: r.updated_at };
        if (r.kind === 'circuit' && configured.has(r.ref)) limits.set(r.ref, { ...(JSON.parse(r.value) as CircuitLimits), ...change });
        if (r.kind === 'priorities') priorities = { list: JSON.parse(r.value) as Priority[], ...change };
      }
      rebuild();
    },
    /** The circuit tree in force. */
    circuits: () => tree,
    priorities: () => priorities?.list ?? cfg.priorities,
    prioritiesChange: (): Change | null => (priorities ? { by: priorities.by, at: priorities.at } : null),
    configured: (circuitId: string) => configured.get(circuitId),
    change(circuitId: string): Change | null {
      const o = limits.get(circuitId);
      return o ? { by: o.by, at: o.at } : null;
    },

    /** Sets a circuit's limits; the same failsafe rule as the config: every charger below at failsafeCurrent must fit. */
    async setLimits(circuitId: string, want: CircuitLimits, by: string): Promise<void> {
      const circuit = configured.get(circuitId);
      if (!circuit) throw ApiError.notFound(`circuit ${circuitId}`);
      const below = chargersBelow(circuit);
      if (below * cfg.failsafeCurrent > want.maxCurrent) {
        throw ApiError.badRequest([{ field: 'maxCurrent', message: `${below} charger(s) at failsafeCurrent ${cfg.failsafeCurrent} A need ${below * cfg.failsafeCurrent} A; expected at least that` }]);
      }
      const at = clock.iso();
      await db('loadbalancing_overrides')
        .insert({ kind: 'circuit', ref: circuitId, value: JSON.stringify(want), updated_by: by, updated_at: at })
        .onConflict(['kind', 'ref']).merge();
      limits.set(circuitId, { ...want, by, at });
      rebuild();
    },
    async resetLimits(circuitId: string): Promise<boolean> {
      if (!configured.has(circuitId)) throw ApiError.notFound(`circuit ${circuitId}`);
      await db('loadbalancing_overrides').where({ kind: 'circuit', ref: circuitId }).delete();
      const had = limits.delete(circuitId);
      rebuild();
      return had;
    },
    async setPriorities(list: Priority[], by: string): Promise<void> {
      const at = clock.iso();
      await db('loadbalancing_overrides')
        .insert({ kind: 'priorities', ref: '', value: JSON.stringify(list), updated_by: by, updated_at: at })
        .onConflict(['kind', 'ref']).merge();
      priorities = { list, by, at };
    },
    async resetPriorities(): Promise<void> {
      await db('loadbalancing_overrides').where({ kind: 'priorities' }).delete();
      priorities = null;
    },
  };
}

export type LoadSettings = ReturnType<typeof createSettings>;
