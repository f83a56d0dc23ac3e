// Shapes of the diagnostics API as the page uses them (see plugins/diagnostics/README.md).
import type { Tone } from '$lib/format.ts';
export type { DiagnosticsFile } from '../files.ts';

export type Severity = 'info' | 'warning' | 'critical';
export type HealthState = 'available' | 'charging' | 'faulted' | 'offline' | 'unavailable';
export type StateSeconds = Record<HealthState, number>;

export interface Finding {
  id: number;
  check: string;
  chargerId: string | null;
  connectorId: number | null;
  severity: Severity;
  message: string;
  problem: string;
  cause: string;
  action: string;
  state: 'active' | 'cleared';
  since: string;
  clearedAt: string | null;
  updatedAt: string;
  occurrences: number;
}

export interface HealthNumbers {
  availabilityPct24h: number | null;
  availabilityPct7d: number | null;
  availabilityPct30d: number | null;
  faultCount30d: number;
  mtbfHours: number | null;
  stateSeconds24h: StateSeconds;
}

export interface ChargerHealth extends HealthNumbers {
  chargerId: string;
  name: string | null;
  online: boolean;
  activeFindings: number;
  connectors: Array<HealthNumbers & { connectorId: number }>;
}

export interface HealthDetail extends ChargerHealth {
  segments24h: Array<{ from: string; to: string; state: HealthState }>;
  daily: Array<{ from: string; to: string; availabilityPct: number | null; stateSeconds: StateSeconds }>;
}

export interface ProbeResult {
  id: number;
  chargerId: string;
  trigger: string;
  startedAt: string;
  finishedAt: string;
  outcome: 'ok' | 'partial' | 'unresponsive' | 'offline';
  steps: Array<{ action: string; outcome: string; error?: string; durationMs: number }>;
  configuration: Record<string, string | null>;
  unknownKeys: string[];
  notes: string[];
}


export const STATES: HealthState[] = ['available', 'charging', 'faulted', 'offline', 'unavailable'];

export const stateLabel: Record<HealthState, string> = {
  available: 'Available', charging: 'Charging / occupied', faulted: 'Faulted', offline: 'Offline', unavailable: 'Unavailable',
};

/** Chart colours by state, from the UI's palette. */
export const stateColour: Record<HealthState, string> = {
  available: 'var(--green-fg)', charging: 'var(--blue-fg)', faulted: 'var(--red-fg)', offline: 'var(--grey-fg)', unavailable: 'var(--amber-fg)',
};

export function severityTone(s: Severity): Tone {
  return s === 'critical' ? 'red' : s === 'warning' ? 'amber' : 'blue';
}

export function outcomeTone(o: ProbeResult['outcome']): Tone {
  return o === 'ok' ? 'green' : o === 'partial' ? 'amber' : o === 'unresponsive' ? 'red' : 'grey';
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${v.toFixed(v === 100 ? 0 : 1)} %`;
}

export function bytes(n: number | null): string {
  if (n === null) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** "connector 2 of CP1", "CP1", or the meter for findings without a charger. */
export function subject(f: Pick<Finding, 'chargerId' | 'connectorId' | 'check'> & { subKey?: string }): string {
  if (!f.chargerId) return f.subKey ? `meter ${f.subKey}` : 'site';
  if (f.connectorId === null) return f.chargerId;
  return f.connectorId === 0 ? `${f.chargerId} (whole charger)` : `${f.chargerId} · connector ${f.connectorId}`;
}
