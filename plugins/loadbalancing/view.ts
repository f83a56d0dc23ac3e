import type { Phase } from './config.js';

/** GET /api/loadbalancing, as the API answers it and the Load page reads it. */
export interface LoadView {
  updatedAt: string | null;
  minCurrent: number;
  failsafeCurrent: number;
  circuits: CircuitView[];
  chargers: Array<{ id: string; smartCharging: 'unknown' | 'yes' | 'no'; rateUnit: 'A' | 'W'; problem: string | null }>;
}

export interface CircuitView {
  id: string;
  maxCurrent: number;
  maxPower: number | null;
  phases: 1 | 3;
  /** What the steered connectors may share now, A per phase (after the building's other load and fixed loads); null before the first computation. */
  room: Record<Phase, number> | null;
  /** The sum of the limits given, A per phase. */
  allocated: Record<Phase, number>;
  meter: { id: string; currentA: number[] | null; stale: boolean } | null;
  connectors: ConnectorView[];
  circuits: CircuitView[];
}

export type ConnectorState = 'idle' | 'waiting' | 'charging' | 'paused' | 'unmanaged' | 'offline';

export interface ConnectorView {
  chargerId: string;
  connectorId: number;
  /** Site phases its car draws from. */
  phases: Phase[];
  transactionId: number | null;
  priority: number | null;
  boosted: boolean;
  /** A per phase; null without a session or before its first limit. */
  limit: number | null;
  /** Latest current per charger phase, A. */
  measured: number[] | null;
  validTo: string | null;
  state: ConnectorState;
}

/** GET /api/loadbalancing/history: a point every `every` seconds; currents of the most loaded phase, A. */
export interface LoadHistory {
  every: number;
  circuits: Record<string, Array<{ at: string; limit: number; allocated: number; measured: number | null }>>;
  /** By "chargerId:connectorId". */
  connectors: Record<string, Array<{ at: string; limit: number | null; measured: number | null }>>;
}
