// Shapes of the alerts API as the page uses them.

// The server's own types: type-only imports, erased from the browser bundle.
import type { AlertView } from '../channels/channel.ts';
import type { DeliveryView as Delivery } from '../store.ts';
export type { Severity } from '../../../core/events.ts';
export type { Delivery };
export type { MaintenanceWindow } from '../store.ts';

/** An alert in GET /api/alerts. */
export interface AlertItem extends AlertView {
  /** Chargers of a power outage. */
  chargers?: string[];
}

export interface TimelineEntry {
  at: string;
  what: string;
  detail: any; // any: history detail is free-form JSON; deliveries are Delivery
}

export interface AlertDetail extends AlertItem {
  timeline: TimelineEntry[];
  deliveries: Delivery[];
}

export interface ChannelInfo {
  name: string;
  type: string;
  /** Null for roles that may not see where notices go. */
  target: string | null;
  quietHours: { from: string; to: string } | null;
  waiting: number;
  lastDelivery: { at: string; status: string; kind: string; error: string | null } | null;
}

export const severityTone = (s: string) => (s === 'critical' ? 'red' : s === 'warning' ? 'amber' : 'blue');
export const stateTone = (s: string) => (s === 'open' ? 'red' : s === 'acknowledged' ? 'amber' : 'green');
export const deliveryTone = (s: string) => (s === 'sent' ? 'green' : s === 'failed' ? 'red' : s === 'pending' ? 'amber' : 'grey');
