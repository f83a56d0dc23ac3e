import type { Phase, Priority } from './config.js';

/** Who changed a setting on the Load page, and when. */
export interface Change { by: string; at: string }

/** GET /api/loadbalancing, as the API answers it and the Load page reads it. */
export interface LoadView {
  updatedAt: string | null;
  minCurrent: number;
  failsafeCurrent: number;
  circuits: CircuitView[];
  /** Who is served first: the config's, or what an installer set on the Load page (then `prioritiesChanged` says who and when). */
  priorities: Priority[];
  prioritiesChanged: Change | null;
  boostPriority: number;
  chargers: Array<{ id: string; smartCharging: 'unknown' | 'yes' | 'no'; rateUnit: 'A' | 'W'; problem: string | null }>;
}

export interface CircuitView {
  id: string;
  /** The limits in force, A per phase and W. */
  maxCurrent: number;
  maxPower: number | null;
  /** The site config's limits; they differ from the above when an installer changed them (`changed`). */
  configured: { maxCurrent: number; maxPower: number | null };
  changed: Change | null;
  phases: 1 | 3;
  /** Chargers of this circuit that have not reported a connector yet (never connected since they were added). */
  unseen: string[];
  /** A problem of the circuit itself, e.g. its chargers' failsafe does not fit under its fuse. */
  problem: string | null;
  /** What the steered connectors may share now, A per phase (after the building's other load and fixed loads); null before the first computation. */
  room: Record<Phase, number> | null;
  /** The sum of the limits given, A per phase. */
  allocated: Record<Phase, number>;
  /** What the circuit carries, A per phase: its fresh meter's reading, else the sum of its cars' draws; null before any. */
  measured: Record<Phase, number> | null;
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
