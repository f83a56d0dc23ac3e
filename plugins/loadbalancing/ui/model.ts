// Shapes and wording shared by the Load page's parts.
import type { Tone } from '$lib/format.ts';
import type { Phase } from '../config.js';
import type { CircuitView, ConnectorState, ConnectorView } from '../view.ts';

export type { CircuitView, ConnectorView, LoadHistory, LoadView } from '../view.ts';

/** Amperes as people read them: whole when whole, else one decimal. */
export function amps(a: number): string {
  const r = Math.round(a * 10) / 10;
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

export const phasesOf = (c: CircuitView): Phase[] => (c.phases === 1 ? ['L1'] : ['L1', 'L2', 'L3']);

export const connectorKey = (k: Pick<ConnectorView, 'chargerId' | 'connectorId'>) => `${k.chargerId}:${k.connectorId}`;

/** Every connector at this circuit and below it. */
export const connectorsBelow = (c: CircuitView): ConnectorView[] => [...c.connectors, ...c.circuits.flatMap(connectorsBelow)];

export const stateTone: Record<ConnectorState, Tone> = {
  charging: 'blue', waiting: 'amber', paused: 'violet', idle: 'grey', unmanaged: 'red', offline: 'grey',
};

/** What a state means, in a few words next to its badge. */
export const stateHint: Record<ConnectorState, string> = {
  charging: '',
  waiting: 'for its first limit',
  paused: 'waits for its turn at 0 A',
  idle: 'no car',
  unmanaged: 'cannot be steered: counted at full current',
  offline: 'keeps its last limit until it expires',
};

/** Line colours of the connectors in the chart; the circuit's load is green, its fuse a red dashed line. */
export const PALETTE = ['var(--blue-fg)', 'var(--violet-fg)', 'var(--amber-fg)', '#0e7490', '#be185d', '#4d7c0f', '#9333ea', '#c2410c'];
