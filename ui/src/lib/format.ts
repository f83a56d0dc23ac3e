// Display helpers. The API speaks Wh, W and ISO times; the UI shows kWh, kW and local times.

export function kWh(wh: number | null | undefined, digits = 2): string {
  if (wh === null || wh === undefined || Number.isNaN(wh)) return '—';
  return `${(wh / 1000).toFixed(digits)} kWh`;
}

export function power(w: number | null | undefined): string {
  if (w === null || w === undefined || Number.isNaN(w)) return '—';
  if (Math.abs(w) >= 1000) return `${(w / 1000).toFixed(w >= 100000 ? 0 : 1)} kW`;
  return `${Math.round(w)} W`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function duration(fromIso: string | null | undefined, to: number | string | null | undefined): string {
  if (!fromIso) return '—';
  const end = typeof to === 'string' ? Date.parse(to) : (to ?? Date.now());
  const s = Math.max(0, Math.round((end - Date.parse(fromIso)) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

export function money(cost: { amount: string | number; currency: string } | null | undefined): string {
  if (!cost) return '—';
  const n = Number(cost.amount);
  if (Number.isNaN(n)) return `${cost.amount} ${cost.currency}`;
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: cost.currency }).format(n);
  } catch {
    return `${cost.amount} ${cost.currency}`;
  }
}

export type Tone = 'green' | 'blue' | 'red' | 'amber' | 'grey' | 'violet';

/** Colour of a connector status: Available green, Charging blue, Faulted red, Preparing/Suspended amber. */
export function statusTone(status: string | null | undefined, online = true): Tone {
  if (!online) return 'grey';
  switch (status) {
    case 'Available': return 'green';
    case 'Charging': return 'blue';
    case 'Faulted': return 'red';
    case 'Preparing':
    case 'SuspendedEV':
    case 'SuspendedEVSE':
    case 'Finishing': return 'amber';
    case 'Reserved': return 'violet';
    default: return 'grey';
  }
}

/** "SuspendedEV" → "Suspended (EV)". */
export function statusLabel(status: string | null | undefined): string {
  switch (status) {
    case 'SuspendedEV': return 'Suspended (EV)';
    case 'SuspendedEVSE': return 'Suspended (EVSE)';
    case null:
    case undefined:
    case '': return 'Unknown';
    default: return status;
  }
}
