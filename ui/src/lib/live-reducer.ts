// How server events and API answers change the live state. No I/O, timers or module state: each
// function changes only the state it is handed (the $state object in the app, a plain one in tests)
// and says what the caller should do next. Changes are made in place so that Svelte's fine-grained
// reactivity keeps every component's reference to a charger or session current.
import type { Charger, ChargerDetail, Connector, Transaction } from './api.ts';

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

/** Latest reading of a site (Modbus) meter. */
export interface MeterReading {
  meterId: string;
  at: string;
  powerW?: number;
  energyImportWh?: number;
}

/** What the reducer keeps: the data part of `live`. */
export interface LiveData {
  /** True once the charger list has been loaded at least once. */
  loaded: boolean;
  /** Chargers by id, list shape of GET /api/chargers. */
  chargers: Record<string, Charger>;
  /** Sessions seen running or stopping while the UI was open, by transaction id. */
  sessions: Record<number, LiveSession>;
  /** Latest reading of each site (Modbus) meter, by meter id. */
  meters: Record<string, MeterReading>;
}

/**
 * Each applied event gets a number; touchedAt remembers the last one per charger, so an API answer
 * requested before that event (see liveMark in live.svelte.ts) does not overwrite what the event said.
 */
export interface EventMarks {
  seq: number;
  touchedAt: Map<string, number>;
}

/** What the caller should do after an event: refetch = load the charger list again (a charger it does not know yet). */
export interface Outcome { refetch: boolean }

/** A stored meter value of GET /api/transactions/{id}. */
export interface StoredMeterValue {
  at: string;
  measurand: string;
  phase: string;
  location: string;
  /** SI units (W, Wh). */
  value: number;
}

/** The core events the live state follows; the stream subscribes to them whether or not a page listens. */
export const CORE_EVENTS = [
  'charger.connected', 'charger.disconnected', 'charger.registered', 'charger.approved', 'charger.booted',
  'charger.heartbeat', 'connector.status', 'session.started', 'meter.sampled', 'session.stopped',
];

/** Power samples kept per session. */
export const MAX_SAMPLES = 2000;

export const emptyMarks = (): EventMarks => ({ seq: 0, touchedAt: new Map() });

const touchedSince = (m: EventMarks, id: string, mark: number) => (m.touchedAt.get(id) ?? 0) > mark;

/** Merges a charger from the API into the state; events after `mark` are newer and keep their connection and connector state. */
export function mergeCharger(s: LiveData, m: EventMarks, c: Charger, mark: number): void {
  const cur = s.chargers[c.id];
  if (cur && touchedSince(m, c.id, mark)) {
    // The answer is older than what events told us: take only what events do not carry.
    cur.name = 'name' in c ? (c.name ?? null) : (cur.name ?? null);
    cur.vendor = cur.vendor ?? c.vendor;
    cur.model = cur.model ?? c.model;
    cur.firmwareVersion = cur.firmwareVersion ?? c.firmwareVersion;
    cur.protocol = cur.protocol ?? c.protocol ?? null;
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
    protocol: c.protocol ?? null,
    lastSeenAt: c.lastSeenAt,
    connectors: (c.connectors ?? []).map((k) => ({ ...k })),
  };
  if (cur) Object.assign(cur, next);
  else s.chargers[c.id] = next;
}

/** The whole charger list from the API: merges each, drops chargers it no longer has unless an event since `mark` named them. */
export function mergeChargerList(s: LiveData, m: EventMarks, list: Charger[], mark: number): void {
  const seen = new Set<string>();
  for (const c of list) {
    seen.add(c.id);
    mergeCharger(s, m, c, mark);
  }
  for (const id of Object.keys(s.chargers)) if (!seen.has(id) && !touchedSince(m, id, mark)) delete s.chargers[id];
  s.loaded = true;
}

/** A charger's detail (or list) answer, and its open transactions as sessions. */
export function seedCharger(s: LiveData, m: EventMarks, detail: Charger | ChargerDetail, mark: number): void {
  mergeCharger(s, m, detail, mark);
  if ('openTransactions' in detail && Array.isArray(detail.openTransactions)) {
    for (const tx of detail.openTransactions) seedSession(s, { ...tx, chargerId: tx.chargerId ?? detail.id });
  }
}

/** Adds a transaction from the API to the sessions, unless already tracked. */
export function seedSession(
  s: LiveData,
  tx: Pick<Transaction, 'id' | 'chargerId' | 'connectorId' | 'idTag' | 'meterStartWh' | 'startedAt'> & Partial<Transaction>,
): void {
  if (s.sessions[tx.id]) return;
  s.sessions[tx.id] = {
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

/** A session's stored answer (stop, stored meter values) merged into its live session, so charts start at the session start. */
export function mergeStoredSession(session: LiveSession, tx: Pick<Transaction, 'stoppedAt' | 'energyWh'> & { meterValues?: StoredMeterValue[] }): void {
  const s = session;
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
}

/** The running session on a connector, if any. */
export function runningSession(s: LiveData, chargerId: string, connectorId: number): LiveSession | undefined {
  for (const x of Object.values(s.sessions)) {
    if (x.chargerId === chargerId && x.connectorId === connectorId && !x.stoppedAt) return x;
  }
  return undefined;
}

/** Forgets every charger, session and meter (sign-out). */
export function forgetAll(s: LiveData, m: EventMarks): void {
  for (const id of Object.keys(s.chargers)) delete s.chargers[id];
  for (const id of Object.keys(s.sessions)) delete s.sessions[Number(id)];
  for (const id of Object.keys(s.meters)) delete s.meters[id];
  m.touchedAt.clear();
  s.loaded = false;
}

function setConnector(c: Charger, connectorId: number, patch: Partial<Connector>): void {
  const k = c.connectors.find((x) => x.connectorId === connectorId);
  if (k) Object.assign(k, patch);
  else {
    c.connectors.push({ connectorId, status: 'Unavailable', errorCode: null, ...patch });
    c.connectors.sort((a, b) => a.connectorId - b.connectorId);
  }
}

/**
 * Applies one server event. nowMs stands in for a sample without a readable time.
 * Payloads are the server's JSON as received, so fields are read defensively.
 */
export function applyEvent(s: LiveData, m: EventMarks, name: string, payload: unknown, nowMs: number): Outcome {
  const out: Outcome = { refetch: false };
  if (!payload || typeof payload !== 'object') return out;
  // any: the stream's JSON is untyped, and each case reads only the fields its event has.
  const p = payload as Record<string, any>;
  const id: string | undefined = typeof p.chargerId === 'string' ? p.chargerId : undefined;
  if (!id && name !== 'meter.sampled') return out;
  if (id && name !== 'meter.sampled') m.touchedAt.set(id, ++m.seq);

  // A charger the list does not know yet: show it at once, fetch its details.
  const ensureCharger = (cid: string): Charger => {
    let c = s.chargers[cid];
    if (!c) {
      s.chargers[cid] = {
        id: cid, name: null, online: true, approved: true, vendor: null, model: null,
        firmwareVersion: null, protocol: null, lastSeenAt: null, connectors: [],
      };
      c = s.chargers[cid]!;
      if (s.loaded) out.refetch = true;
    }
    return c;
  };

  switch (name) {
    case 'charger.connected': {
      const c = ensureCharger(id!);
      c.online = true;
      c.lastSeenAt = p.at ?? c.lastSeenAt;
      c.protocol = p.protocol ?? c.protocol;
      break;
    }
    case 'charger.disconnected': {
      const c = s.chargers[id!];
      if (!c) break;
      c.online = false;
      c.lastSeenAt = p.at ?? c.lastSeenAt;
      break;
    }
    case 'charger.registered': {
      const known = !!s.chargers[id!];
      const c = ensureCharger(id!);
      c.approved = !!p.approved;
      if (!known) out.refetch = true;
      break;
    }
    case 'charger.approved': {
      ensureCharger(id!).approved = true;
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
      const c = s.chargers[id!];
      if (c) c.lastSeenAt = p.at ?? c.lastSeenAt;
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
      s.sessions[txId] = {
        transactionId: txId,
        chargerId: id!,
        connectorId: Number(p.connectorId),
        idTag: p.idTag,
        meterStartWh: Number(p.meterStartWh ?? 0),
        startedAt: p.startedAt ?? p.at,
        stoppedAt: null,
        powerW: null,
        energyWh: 0,
        samples: s.sessions[txId]?.samples ?? [],
      };
      break;
    }
    case 'session.stopped': {
      const x = s.sessions[Number(p.transactionId)];
      if (x) {
        x.stoppedAt = p.stoppedAt ?? p.at;
        x.energyWh = p.energyWh ?? x.energyWh;
        x.powerW = 0;
      }
      break;
    }
    case 'meter.sampled': {
      if (p.source === 'modbus' && p.meterId) {
        s.meters[p.meterId] = { meterId: p.meterId, at: p.at, powerW: p.powerW, energyImportWh: p.energyImportWh };
        break;
      }
      let x: LiveSession | undefined = p.transactionId != null ? s.sessions[Number(p.transactionId)] : undefined;
      if (!x && id && p.connectorId != null) x = runningSession(s, id, Number(p.connectorId));
      if (!x || x.stoppedAt) break;
      if (typeof p.powerW === 'number') {
        x.powerW = p.powerW;
        x.samples.push({ t: Date.parse(p.at) || nowMs, powerW: p.powerW });
        if (x.samples.length > MAX_SAMPLES) x.samples.splice(0, x.samples.length - MAX_SAMPLES);
      }
      if (typeof p.energyImportWh === 'number') x.energyWh = Math.max(0, p.energyImportWh - x.meterStartWh);
      break;
    }
  }
  return out;
}
