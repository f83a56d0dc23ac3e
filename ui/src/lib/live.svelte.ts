// Live state of the network, patched from the server's event stream (GET /api/events).
// `live` is one $state object that is never reassigned: read it anywhere, it stays current.
// Plugin pages: import { live, onLiveEvent } from '$lib/live.svelte.ts';
// The stream itself is live-stream.ts; what each event changes is live-reducer.ts.
import { api, type Charger, type ChargerDetail, type Transaction } from './api.ts';
import * as reducer from './live-reducer.ts';
import { CORE_EVENTS, emptyMarks, type LiveSession, type StoredMeterValue } from './live-reducer.ts';
import { LiveStream, type StreamState } from './live-stream.ts';

export type { LiveSession, MeterReading, PowerPoint } from './live-reducer.ts';
export type { StreamState } from './live-stream.ts';

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
  meters: {} as Record<string, reducer.MeterReading>,
  /** Receive time of the last event, epoch ms. */
  lastEventAt: 0,
});

// any: pages receive the raw JSON of the event they asked for and read it as that event's payload.
type Listener = (payload: any, name: string) => void;
const listeners = new Map<string, Set<Listener>>();
const marks = emptyMarks();
let refetchTimer: ReturnType<typeof setTimeout> | null = null;

const stream = new LiveStream({
  event: dispatch,
  state: (s) => { live.stream = s; },
  // Events may have been missed while disconnected: resync.
  resync: () => { if (live.loaded) scheduleRefetch(0); },
});
for (const name of CORE_EVENTS) stream.listen(name);

/** Subscribe to a raw server event ("*" = every event); returns the unsubscribe function. */
export function onLiveEvent(name: string, fn: Listener): () => void {
  let set = listeners.get(name);
  if (!set) listeners.set(name, (set = new Set()));
  set.add(fn);
  if (name !== '*') stream.listen(name);
  return () => set.delete(fn);
}

/** Loads GET /api/chargers into live.chargers, keeping the same object. */
export async function loadChargers(): Promise<void> {
  const mark = liveMark();
  const list = await api.get<Charger[]>('/api/chargers');
  reducer.mergeChargerList(live, marks, list, mark);
}

/** A point in the event stream. Take it before a request, and pass it with the answer to seedCharger. */
export function liveMark(): number {
  return marks.seq;
}

/**
 * Merges a charger's detail (or list) answer into live state, and its open transactions into sessions.
 * Events received after `mark` are newer than the answer: they keep their connection and connector state.
 */
export function seedCharger(detail: Charger | ChargerDetail, mark: number): void {
  reducer.seedCharger(live, marks, detail, mark);
}

/** Adds a transaction from the API to live.sessions, unless already tracked. */
export function seedSession(tx: Parameters<typeof reducer.seedSession>[1]): void {
  reducer.seedSession(live, tx);
}

/** Loads a session and its stored meter values (GET /api/transactions/{id}) into live.sessions, so charts start at the session start. */
export async function loadSession(transactionId: number): Promise<LiveSession | undefined> {
  const tx = await api.get<Transaction & { meterValues?: StoredMeterValue[] }>(`/api/transactions/${transactionId}`);
  reducer.seedSession(live, tx);
  const s = live.sessions[transactionId];
  if (s) reducer.mergeStoredSession(s, tx);
  return s;
}

/** The running session on a connector, if any. */
export function runningSession(chargerId: string, connectorId: number): LiveSession | undefined {
  return reducer.runningSession(live, chargerId, connectorId);
}

/** Opens the event stream with the given token; safe to call again with a new token. */
export function connectLive(withToken: string, checkAuth?: () => Promise<boolean>): void {
  // A new stream replaces the old one, and so does the list it will load: drop a refetch still pending.
  if (stream.connect(withToken, checkAuth)) cancelRefetch();
}

export function disconnectLive(): void {
  cancelRefetch();
  stream.disconnect();
}

function cancelRefetch(): void {
  if (refetchTimer) clearTimeout(refetchTimer);
  refetchTimer = null;
}

/** Forgets everything (sign-out). */
export function resetLive(): void {
  disconnectLive();
  reducer.forgetAll(live, marks);
}

function dispatch(name: string, payload: unknown): void {
  live.lastEventAt = Date.now();
  try {
    if (reducer.applyEvent(live, marks, name, payload, live.lastEventAt).refetch) scheduleRefetch();
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
