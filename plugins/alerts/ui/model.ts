// Shapes of the alerts API as the page uses them.

export type Severity = 'info' | 'warning' | 'critical';

export interface AlertItem {
  id: number;
  severity: Severity;
  kind: string;
  chargerId: string | null;
  connectorId: number | null;
  message: string;
  action: string | null;
  state: 'open' | 'acknowledged' | 'resolved';
  raisedAt: string;
  since: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  count: number;
  /** Chargers of a power outage. */
  chargers?: string[];
}

export interface Delivery {
  id: number;
  alertId: number | null;
  channel: string;
  type: string | null;
  recipient: string | null;
  level: number;
  kind: string;
  status: 'pending' | 'sent' | 'failed' | 'cancelled';
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
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

export interface MaintenanceWindow {
  id: number;
  chargerId: string;
  until: string;
  reason: string | null;
  createdBy: string;
  active: boolean;
}

export const severityTone = (s: string) => (s === 'critical' ? 'red' : s === 'warning' ? 'amber' : 'blue');
export const stateTone = (s: string) => (s === 'open' ? 'red' : s === 'acknowledged' ? 'amber' : 'green');
export const deliveryTone = (s: string) => (s === 'sent' ? 'green' : s === 'failed' ? 'red' : s === 'pending' ? 'amber' : 'grey');
