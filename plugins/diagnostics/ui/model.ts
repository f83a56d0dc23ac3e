// Shapes of the diagnostics API as the page uses them (see plugins/diagnostics/README.md).
// The server's own types: type-only imports, erased from the browser bundle.
import type { Tone } from '$lib/format.ts';
import type { Severity } from '../../../core/events.ts';
import type { ChargerHealth as HealthOf, history } from '../health.ts';
import type { ProbeResult } from '../probes.ts';
import type { FindingView as Finding } from '../store.ts';
import type { HealthState } from '../timeline.ts';
export type { Finding, HealthState, ProbeResult, Severity };
export type { DiagnosticsFile } from '../files.ts';
export type { HealthNumbers } from '../health.ts';
export type { StateSeconds } from '../timeline.ts';

/** A charger in GET /api/diagnostics/health: its numbers and how many of its findings are active. */
export interface ChargerHealth extends HealthOf {
  activeFindings: number;
}

/** GET /api/diagnostics/health/{id}: the numbers and the day-by-day view. */
export type HealthDetail = HealthOf & ReturnType<typeof history>;

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
