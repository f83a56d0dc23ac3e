// Live state of the network, patched from the server's event stream (GET /api/events).
// `live` is one $state object that is never reassigned: read it anywhere, it stays current.
// Plugin pages: import { live, onLiveEvent } from '$lib/live.svelte.ts';
import { api, type Charger, type ChargerDetail, type Connector, type Transaction } from './api.ts';

export interface PowerPoint {
  /** Epoch milliseconds of the sample. */
  t: number;
  powerW: number;
}

export interface LiveSession {
  transactionId: number;
  chargerId: string;
  connectorId: number;
  idTag: string;
  meterStartWh: number;
  startedAt: string;
  stoppedAt: string | null;
  /** Last sampled power, W. */
  powerW: number | null;
  /** Energy delivered so far (or in total once stopped), Wh. */
  energyWh: number | null;
  /** Power samples received while the UI was open, oldest first. */
  samples: PowerPoint[];
}

export interface MeterReading {
  meterId: string;
  at: string;
  powerW?: number;
  energyImportWh?: number;
}

export type StreamState = 'idle' | 'connecting' | 'open' | 'retrying';

export const live = $state({
  /** State of the event stream. */
  stream: 'idle' as StreamState,
  /** True once the charger list has been loaded at least once. */
  loaded: false,
  /** Chargers by id, list shape of GET /api/chargers. */
  chargers: {} as Record<string, Charger>,
  /** Sessions seen running or stopping while the UI was open, by transaction id. */
  sessions: {} as Record<number, LiveSession>,
  /** Latest reading of each site (Modbus) meter, by meter id. */
  meters: {} as Record<string, MeterReading>,
  /** Receive time of the last event, epoch ms. */
  lastEventAt: 0,
});

type Listener = (payload: any, name: string) => void;
const listeners = new Map<string, Set<Listener>>();
const CORE_EVENTS = [
  'charger.connected', 'charger.disconnected', 'charger.registered', 'charger.approved', 'charger.booted',
  'charger.heartbeat', 'connector.status', 'session.started', 'meter.sampled', 'session.stopped',
];
const MAX_SAMPLES = 2000;

let source: EventSource | null = null;
let token: string | null = null;
let attached = new Set<string>();
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let refetchTimer: ReturnType<typeof setTimeout> | null = null;
let hadError = false;
let authCheck: (() => Promise<boolean>) | null = null;
// Each applied event gets a number; touchedAt remembers the last one per charger (see seedCharger).
let eventSeq = 0;
const touchedAt = new Map<string, number>();

/** Subscribe to a raw server event ("*" = every event); returns the unsubscribe function. */
export function onLiveEvent(name: string, fn: Listener): () => void {
  let set = listeners.get(name);
  if (!set) listeners.set(name, (set = new Set()));
  set.add(fn);
  if (name !== '*') attach(name);
  return () => set.delete(fn);
}

/** Loads GET /api/chargers into live.chargers, keeping the same object. */
export async function loadChargers(): Promise<void> {
  const mark = liveMark();
  const list = await api.get<Charger[]>('/api/chargers');
  const seen = new Set<string>();
  for (const c of list) {
    seen.add(c.id);
    mergeCharger(c, mark);
  }
  for (const id of Object.keys(live.chargers)) if (!seen.has(id) && !touchedSince(id, mark)) delete live.chargers[id];
  live.loaded = true;
}

/** A point in the event stream. Take it before a request, and pass it with the answer to seedCharger. */
export function liveMark(): number {
  return eventSeq;
}

/**
 * Merges a charger's detail (or list) answer into live state, and its open transactions into sessions.
 * Events received after `mark` are newer than the answer: they keep their connection and connector state.
 */
export function seedCharger(detail: Charger | ChargerDetail, mark: number): void {
  mergeCharger(detail, mark);
  if ('openTransactions' in detail && Array.isArray(detail.openTransactions)) {
    for (const tx of detail.openTransactions) seedSession({ ...tx, chargerId: tx.chargerId ?? detail.id });
  }
}

/** Adds a transaction from the API to live.sessions, unless already tracked. */
export function seedSession(tx: Pick<Transaction, 'id' | 'chargerId' | 'connectorId' | 'idTag' | 'meterStartWh' | 'startedAt'> & Partial<Transaction>): void {
  if (live.sessions[tx.id]) return;
  live.sessions[tx.id] = {
    transactionId: tx.id,
    chargerId: tx.chargerId,
    connectorId: tx.connectorId,
    idTag: tx.idTag,
    meterStartWh: tx.meterStartWh,
    startedAt: tx.startedAt,
    stoppedAt: tx.stoppedAt ?? null,
    powerW: null,
    energyWh: tx.energyWh ?? (tx.meterStopWh != null ? tx.meterStopWh - tx.meterStartWh : null),
    samples: [],
  };
}

interface StoredMeterValue {
  at: string;
  measurand: string;
  phase: string;
  location: string;
  /** SI units (W, Wh). */
  value: number;
}

/** Loads a session and its stored meter values (GET /api/transactions/{id}) into live.sessions, so charts start at the session start. */
export async function loadSession(transactionId: number): Promise<LiveSession | undefined> {
  const tx = await api.get<Transaction & { meterValues?: StoredMeterValue[] }>(`/api/transactions/${transactionId}`);
  seedSession(tx);
  const s = live.sessions[transactionId];
  if (!s) return undefined;
  if (tx.stoppedAt) {
    s.stoppedAt = tx.stoppedAt;
    s.energyWh = tx.energyWh ?? s.energyWh;
  }
  // Per timestamp: the whole-charger power (unphased, else the sum of phases) and the energy register.
  const byAt = new Map<number, { phased: number; total?: number; energy?: number }>();
  for (const v of tx.meterValues ?? []) {
    if (v.location && v.location !== 'Outlet') continue;
    const t = Date.parse(v.at);
    if (Number.isNaN(t)) continue;
    const e = byAt.get(t) ?? { phased: 0 };
    if (v.measurand === 'Power.Active.Import') {
      if (v.phase) e.phased += Number(v.value);
      else e.total = Number(v.value);
    } else if (v.measurand === 'Energy.Active.Import.Register' && !v.phase) e.energy = Number(v.value);
    byAt.set(t, e);
  }
  const have = new Set(s.samples.map((p) => p.t));
  const stored: PowerPoint[] = [];
  let lastEnergy: number | undefined;
  for (const [t, e] of [...byAt.entries()].sort((a, b) => a[0] - b[0])) {
    const w = e.total ?? (e.phased || undefined);
    if (w !== undefined && !have.has(t)) stored.push({ t, powerW: w });
    if (e.energy !== undefined) lastEnergy = e.energy;
  }
  if (stored.length) {
    const merged = [...stored, ...s.samples].sort((a, b) => a.t - b.t);
    s.samples.splice(0, s.samples.length, ...merged.slice(-MAX_SAMPLES));
    if (!s.stoppedAt && s.powerW === null) s.powerW = s.samples[s.samples.length - 1]!.powerW;
  }
  if (!s.stoppedAt && lastEnergy !== undefined && !s.energyWh) s.energyWh = Math.max(0, lastEnergy - s.meterStartWh);
  return s;
}

/** The running session on a connector, if any. */
export function runningSession(chargerId: string, connectorId: number): LiveSession | undefined {
  for (const s of Object.values(live.sessions)) {
    if (s.chargerId === chargerId && s.connectorId === connectorId && !s.stoppedAt) return s;
  }
  return undefined;
}

/** Opens the event stream with the given token; safe to call again with a new token. */
export function connectLive(withToken: string, checkAuth?: () => Promise<boolean>): void {
  if (source && token === withToken) return;
  disconnectLive();
  token = withToken;
  authCheck = checkAuth ?? null;
  open();
}

export function disconnectLive(): void {
  if (retryTimer) clearTimeout(retryTimer);
  if (refetchTimer) clearTimeout(refetchTimer);
  retryTimer = refetchTimer = null;
  source?.close();
  source = null;
  token = null;
  attached = new Set();
  live.stream = 'idle';
}

/** Forgets everything (sign-out). */
export function resetLive(): void {
  disconnectLive();
  for (const id of Object.keys(live.chargers)) delete live.chargers[id];
  for (const id of Object.keys(live.sessions)) delete live.sessions[Number(id)];
  for (const id of Object.keys(live.meters)) delete live.meters[id];
  touchedAt.clear();
  live.loaded = false;
}

function open(): void {
  if (!token) return;
  live.stream = 'connecting';
  const es = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
  source = es;
  attached = new Set();
  for (const name of new Set([...CORE_EVENTS, ...listeners.keys()])) if (name !== '*') attach(name);
  es.onopen = () => {
    live.stream = 'open';
    // Events may have been missed while disconnected: resync.
    if (hadError && live.loaded) scheduleRefetch(0);
    hadError = false;
  };
  es.onerror = () => {
    hadError = true;
    if (es.readyState === EventSource.CLOSED) {
      // The server refused the stream (e.g. token expired): check why, then retry.
      live.stream = 'retrying';
      es.close();
      if (source === es) source = null;
      void retryLater();
    } else {
      live.stream = 'retrying';
    }
  };
}

async function retryLater(): Promise<void> {
  const ok = authCheck ? await authCheck().catch(() => true) : true;
  if (!ok || !token) return;
  retryTimer = setTimeout(() => {
    retryTimer = null;
    if (!source && token) open();
  }, 3000);
}

function attach(name: string): void {
  if (!source || attached.has(name)) return;
  attached.add(name);
  source.addEventListener(name, (ev) => {
    let payload: unknown;
    try {
      payload = JSON.parse((ev as MessageEvent<string>).data);
    } catch {
      return;
    }
    dispatch(name, payload);
  });
}

function dispatch(name: string, payload: any): void {
  live.lastEventAt = Date.now();
  try {
    apply(name, payload);
  } finally {
    for (const fn of listeners.get(name) ?? []) safely(fn, payload, name);
    for (const fn of listeners.get('*') ?? []) safely(fn, payload, name);
  }
}

function safely(fn: Listener, payload: unknown, name: string): void {
  try {
    fn(payload, name);
  } catch (e) {
    console.warn(`live listener for ${name} failed`, e);
  }
}

function scheduleRefetch(delayMs = 150): void {
  if (refetchTimer) return;
  refetchTimer = setTimeout(() => {
    refetchTimer = null;
    loadChargers().catch(() => {});
  }, delayMs);
}

function touchedSince(id: string, mark: number): boolean {
  return (touchedAt.get(id) ?? 0) > mark;
}

function mergeCharger(c: Charger, mark: number): void {
  const cur = live.chargers[c.id];
  if (cur && touchedSince(c.id, mark)) {
    // The answer is older than what events told us: take only what events do not carry.
    cur.name = 'name' in c ? (c.name ?? null) : (cur.name ?? null);
    cur.vendor = cur.vendor ?? c.vendor;
    cur.model = cur.model ?? c.model;
    cur.firmwareVersion = cur.firmwareVersion ?? c.firmwareVersion;
    for (const k of c.connectors ?? []) {
      if (!cur.connectors.some((x) => x.connectorId === k.connectorId)) setConnector(cur, k.connectorId, { ...k });
    }
    return;
  }
  const next: Charger = {
    id: c.id,
    name: 'name' in c ? (c.name ?? null) : (cur?.name ?? null),
    online: c.online,
    approved: c.approved,
    vendor: c.vendor,
    model: c.model,
    firmwareVersion: c.firmwareVersion,
    lastSeenAt: c.lastSeenAt,
    connectors: (c.connectors ?? []).map((k) => ({ ...k })),
  };
  if (cur) Object.assign(cur, next);
  else live.chargers[c.id] = next;
}

// A charger the list does not know yet: show it at once, fetch its details.
function ensureCharger(id: string): Charger {
  let c = live.chargers[id];
  if (!c) {
    live.chargers[id] = {
      id, name: null, online: true, approved: true, vendor: null, model: null,
      firmwareVersion: null, lastSeenAt: null, connectors: [],
    };
    c = live.chargers[id]!;
    if (live.loaded) scheduleRefetch();
  }
  return c;
}

function setConnector(c: Charger, connectorId: number, patch: Partial<Connector>): void {
  const k = c.connectors.find((x) => x.connectorId === connectorId);
  if (k) Object.assign(k, patch);
  else {
    c.connectors.push({ connectorId, status: 'Unavailable', errorCode: null, ...patch });
    c.connectors.sort((a, b) => a.connectorId - b.connectorId);
  }
}

function apply(name: string, p: any): void {
  if (!p || typeof p !== 'object') return;
  const id: string | undefined = typeof p.chargerId === 'string' ? p.chargerId : undefined;
  if (!id && name !== 'meter.sampled') return;
  if (id && name !== 'meter.sampled') touchedAt.set(id, ++eventSeq);
  switch (name) {
    case 'charger.connected': {
      const c = ensureCharger(id!);
      c.online = true;
      c.lastSeenAt = p.at ?? c.lastSeenAt;
      break;
    }
    case 'charger.disconnected': {
      if (!id || !live.chargers[id]) return;
      live.chargers[id].online = false;
      live.chargers[id].lastSeenAt = p.at ?? live.chargers[id].lastSeenAt;
      break;
    }
    case 'charger.registered': {
      const known = !!(id && live.chargers[id]);
      const c = ensureCharger(id!);
      c.approved = !!p.approved;
      if (!known) scheduleRefetch();
      break;
    }
    case 'charger.approved': {
      if (id) ensureCharger(id).approved = true;
      break;
    }
    case 'charger.booted': {
      const c = ensureCharger(id!);
      c.vendor = p.vendor ?? c.vendor;
      c.model = p.model ?? c.model;
      c.firmwareVersion = p.firmwareVersion ?? c.firmwareVersion;
      c.online = true;
      c.lastSeenAt = p.at ?? c.lastSeenAt;
      break;
    }
    case 'charger.heartbeat': {
      if (id && live.chargers[id]) live.chargers[id].lastSeenAt = p.at ?? live.chargers[id].lastSeenAt;
      break;
    }
    case 'connector.status': {
      const c = ensureCharger(id!);
      setConnector(c, Number(p.connectorId), { status: p.status, errorCode: p.errorCode ?? null });
      c.online = true;
      c.lastSeenAt = p.at ?? c.lastSeenAt;
      break;
    }
    case 'session.started': {
      const txId = Number(p.transactionId);
      live.sessions[txId] = {
        transactionId: txId,
        chargerId: id!,
        connectorId: Number(p.connectorId),
        idTag: p.idTag,
        meterStartWh: Number(p.meterStartWh ?? 0),
        startedAt: p.startedAt ?? p.at,
        stoppedAt: null,
        powerW: null,
        energyWh: 0,
        samples: live.sessions[txId]?.samples ?? [],
      };
      break;
    }
    case 'session.stopped': {
      const s = live.sessions[Number(p.transactionId)];
      if (s) {
        s.stoppedAt = p.stoppedAt ?? p.at;
        s.energyWh = p.energyWh ?? s.energyWh;
        s.powerW = 0;
      }
      break;
    }
    case 'meter.sampled': {
      if (p.source === 'modbus' && p.meterId) {
        live.meters[p.meterId] = { meterId: p.meterId, at: p.at, powerW: p.powerW, energyImportWh: p.energyImportWh };
        return;
      }
      let s: LiveSession | undefined = p.transactionId != null ? live.sessions[Number(p.transactionId)] : undefined;
      if (!s && id && p.connectorId != null) s = runningSession(id, Number(p.connectorId));
      if (!s || s.stoppedAt) return;
      if (typeof p.powerW === 'number') {
        s.powerW = p.powerW;
        s.samples.push({ t: Date.parse(p.at) || Date.now(), powerW: p.powerW });
        if (s.samples.length > MAX_SAMPLES) s.samples.splice(0, s.samples.length - MAX_SAMPLES);
      }
      if (typeof p.energyImportWh === 'number') s.energyWh = Math.max(0, p.energyImportWh - s.meterStartWh);
      break;
    }
  }
}
