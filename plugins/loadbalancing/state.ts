import type { Phase } from './config.js';
import type { RateUnit } from './profiles.js';

/** How a connector is fed: its circuit path and the site phases behind its L1, L2, L3. */
export interface Wiring { circuitPath: string[]; phases: Phase[]; maxCurrent: number }

export interface ChargerState {
  rateUnit: RateUnit;
  stackLevel: number;
  /** Smart Charging: unknown until its failsafe profile was answered. */
  smart: 'unknown' | 'yes' | 'no';
  problem: string | null;
  reason: 'unsupported' | 'refused' | 'ignores-limit' | null;
  configuring: Promise<void> | null;
  /** When its failsafe was last answered on this connection; 0 = not yet. */
  configuredAt: number;
}

export interface SessionState { id: number; startedAt: string; idTag: string; userId: number | null; priority: number; boosted: boolean }

export interface ConnectorState {
  chargerId: string;
  connectorId: number;
  wiring: Wiring;
  tx: SessionState | null;
  /** Latest current per charger phase (L1..L3 of the charger), A. */
  measured: number[] | null;
  /** Site phases the car draws from, as last measured. */
  carPhases: Phase[];
  wish: number;
  /** The limit the charger accepted, A per phase; null before the first. */
  offered: number | null;
  sentAt: number;
  validTo: number;
  turnStartedAt: number | null;
  pausedSince: number | null;
  /** Samples in a row drawing well above the limit. */
  over: number;
}
