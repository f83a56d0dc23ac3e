// Shapes of the reservations plugin's API, and how the drivers' page reads a connector.
import type { Charger, Connector } from '$lib/api.ts';
import type { Tone } from '$lib/format.ts';
// The server's own types: type-only imports, erased from the browser bundle. Other plugins' through their api.ts.
export type { Statement } from '../../billing/api.ts';
export type { Tag } from '../../users/api.ts';
export type { RunningSession } from '../drive.ts';
export type { QueueEntry } from '../queue-store.ts';
export type { Reservation } from '../store.ts';

export interface Hold {
  chargerId: string;
  connectorId: number;
  kind: 'reservation' | 'queue';
  until: string;
  mine: boolean;
}

export interface Settings {
  maxActivePerUser: number;
  maxDurationMs: number;
  queueHoldMs: number;
  connectorZero: boolean;
}

/** billing's GET /api/tariffs/current. */
export interface PriceNow {
  currency: string;
  text: string;
  prices: { pricePerKwh: number; pricePerMinute: number; sessionFee: number; validUntil: string | null };
  tariff: { name: string };
}

export interface SitePlan {
  plan: { type: string; uploadedAt: string; bytes: number } | null;
  pins: Array<{ chargerId: string; x: number; y: number }>;
}

/** What a driver can do with a connector right now. */
export type Availability = 'free' | 'plugged' | 'mine' | 'reserved' | 'busy' | 'faulted' | 'offline';

export interface ConnectorView {
  connectorId: number;
  status: string;
  availability: Availability;
  label: string;
  tone: Tone;
  /** For held connectors: until when. */
  until: string | null;
}

const BUSY = new Set(['Charging', 'SuspendedEV', 'SuspendedEVSE', 'Finishing']);
const BROKEN = new Set(['Faulted', 'Unavailable']);

export function connectorView(c: Charger, k: Connector, holds: Hold[]): ConnectorView {
  const base = { connectorId: k.connectorId, status: String(k.status), until: null as string | null };
  if (!c.online) return { ...base, availability: 'offline', label: 'Offline', tone: 'grey' };
  if (BROKEN.has(String(k.status))) return { ...base, availability: 'faulted', label: 'Out of order', tone: 'red' };
  if (BUSY.has(String(k.status))) return { ...base, availability: 'busy', label: 'In use', tone: 'blue' };
  const hold = holds.find((h) => h.chargerId === c.id && h.connectorId === k.connectorId);
  if (hold?.mine) return { ...base, availability: 'mine', label: 'Held for you', tone: 'green', until: hold.until };
  if (hold || k.status === 'Reserved') return { ...base, availability: 'reserved', label: 'Reserved', tone: 'violet', until: hold?.until ?? null };
  if (k.status === 'Preparing') return { ...base, availability: 'plugged', label: 'Car plugged in', tone: 'amber' };
  if (k.status === 'Available') return { ...base, availability: 'free', label: 'Free', tone: 'green' };
  return { ...base, availability: 'busy', label: String(k.status), tone: 'grey' };
}

export interface ChargerSummary {
  label: string;
  tone: Tone;
  free: number;
}

/** The charger's line in the list: free / busy / out of order / offline. */
export function chargerSummary(c: Charger, views: ConnectorView[], holds: Hold[]): ChargerSummary {
  if (!c.online) return { label: 'Offline', tone: 'grey', free: 0 };
  const anyConnectorHolds = holds.filter((h) => h.chargerId === c.id && h.connectorId === 0 && !h.mine).length;
  const free = Math.max(0, views.filter((v) => v.availability === 'free').length - anyConnectorHolds);
  if (free > 0) return { label: views.length > 1 ? `${free} of ${views.length} free` : 'Free', tone: 'green', free };
  if (views.some((v) => v.availability === 'mine')) return { label: 'Held for you', tone: 'green', free };
  if (views.length && views.every((v) => v.availability === 'faulted')) return { label: 'Out of order', tone: 'red', free };
  if (views.some((v) => v.availability === 'reserved') && !views.some((v) => v.availability === 'busy')) return { label: 'Reserved', tone: 'violet', free };
  if (!views.length) return { label: 'No status yet', tone: 'grey', free };
  return { label: 'Busy', tone: 'blue', free };
}

/** "4:59" or "1:02:03" until a time. */
export function countdown(untilIso: string | null, now: number): string {
  if (!untilIso) return '';
  const s = Math.max(0, Math.round((Date.parse(untilIso) - now) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** "14:05" in the browser's time zone. */
export function clockTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m >= 60 && m % 60 === 0 ? `${m / 60} h` : `${m} min`;
}

export const chargerName = (c: Pick<Charger, 'id' | 'name'> | undefined, id: string): string => c?.name || id;
