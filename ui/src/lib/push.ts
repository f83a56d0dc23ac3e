// Web Push on this device: one subscription per browser, tied to the signed-in account.
// The operator pages' bell and the drivers' "Notify me on this phone" toggle both use this module.
import { api, ApiError, errorMessage } from './api.ts';

/**
 * off / on: push works here and this account is (not) subscribed;
 * blocked: the user or the browser refused notifications for this site;
 * unsupported: no Push API here (plain HTTP, an old browser, iOS Safari before "Add to Home Screen").
 */
export type PushState = 'off' | 'on' | 'blocked' | 'unsupported';

export const PUSH_STATE_LABEL: Record<PushState, string> = {
  off: 'off',
  on: 'on',
  blocked: 'blocked by the browser',
  unsupported: 'not supported here (needs HTTPS or the installed app)',
};

/** What the appliance answered to POST /api/push/subscriptions, kept so a second click can unsubscribe. */
interface Stored {
  id: number;
  endpoint: string;
  /** The account it was stored for: another account signing in on this browser starts "off". */
  username: string;
}

const KEY = 'chargekeeper.push';
/** A push service normally registers within a second or two; offline, Chromium keeps retrying without an answer. */
const SUBSCRIBE_TIMEOUT_MS = 20_000;

export const UNREACHABLE = 'The push service could not be reached: push needs internet, for this device and for the ChargeKeeper box.';

function load(): Stored | null {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<Stored> | null;
    return v && typeof v.id === 'number' && typeof v.endpoint === 'string' && typeof v.username === 'string' ? (v as Stored) : null;
  } catch {
    return null;
  }
}

function save(v: Stored | null): void {
  if (v) localStorage.setItem(KEY, JSON.stringify(v));
  else localStorage.removeItem(KEY);
}

export function pushSupported(): boolean {
  return typeof window !== 'undefined' && window.isSecureContext && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

async function registration(): Promise<ServiceWorkerRegistration> {
  // main.ts registers the worker on load; registering again is harmless and covers a click before that.
  await navigator.serviceWorker.register('/sw.js');
  return withTimeout(navigator.serviceWorker.ready, 10_000, 'The app\'s service worker did not start. Reload the page and try again.');
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
}

/** The state of push for this account on this device. */
export async function pushState(username: string): Promise<PushState> {
  if (!pushSupported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'blocked';
  const stored = load();
  if (!stored || stored.username !== username || Notification.permission !== 'granted') return 'off';
  const reg = await navigator.serviceWorker.getRegistration();
  const sub = await reg?.pushManager.getSubscription();
  return sub && sub.endpoint === stored.endpoint ? 'on' : 'off';
}

/** Words for what went wrong while turning push on. */
function explain(err: unknown): string {
  if (err instanceof ApiError) {
    return err.status === 0 ? 'The ChargeKeeper box could not be reached.' : `The ChargeKeeper box refused: ${err.message}`;
  }
  if (err instanceof DOMException) {
    if (err.name === 'NotAllowedError') return 'Notifications are blocked for this site. Allow them in the browser\'s site settings, then try again.';
    if (/push service/i.test(err.message)) return UNREACHABLE;
    // Chromium refuses push in incognito windows with this message even when notifications are allowed.
    if (/permission denied/i.test(err.message)) return 'The browser refused push in this window. Private and incognito windows cannot receive push.';
    if (err.name === 'InvalidStateError' || err.name === 'InvalidAccessError') return 'The box\'s push key changed. Turn push off and on again.';
    return `The browser could not subscribe: ${err.message}`;
  }
  return errorMessage(err);
}

function subscribe(reg: ServiceWorkerRegistration, applicationServerKey: string): Promise<PushSubscription> {
  const pending = reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey });
  // Offline, the browser's attempt may finish much later: drop what it gives then, nobody asked for it any more.
  let late = false;
  pending.then((sub) => { if (late) void sub.unsubscribe().catch(() => undefined); }, () => undefined);
  return withTimeout(pending, SUBSCRIBE_TIMEOUT_MS, UNREACHABLE).catch((e: unknown) => {
    late = true;
    throw e;
  });
}

async function register(sub: PushSubscription, username: string): Promise<void> {
  const { id } = await api.post<{ id: number }>('/api/push/subscriptions', sub.toJSON());
  save({ id, endpoint: sub.endpoint, username });
}

/** Asks for permission, subscribes this browser and hands the subscription to the box. Throws an Error in words. */
export async function enablePush(username: string): Promise<void> {
  if (!pushSupported()) throw new Error(`Push is ${PUSH_STATE_LABEL.unsupported}.`);
  try {
    const permission = await Notification.requestPermission();
    if (permission !== 'granted') {
      throw new Error(permission === 'denied'
        ? 'Notifications are blocked for this site. Allow them in the browser\'s site settings, then try again.'
        : 'Notifications were not allowed. Click again and choose "Allow".');
    }
    const [reg, key] = await Promise.all([registration(), api.get<{ publicKey: string }>('/api/push/key')]);
    const sub = await subscribe(reg, key.publicKey);
    try {
      await register(sub, username);
    } catch (e) {
      // The box does not know this subscription: leave no half-done state behind.
      await sub.unsubscribe().catch(() => undefined);
      throw e;
    }
  } catch (e) {
    throw new Error(explain(e), { cause: e });
  }
}

/** Removes the box's record and ends the browser's subscription. */
export async function disablePush(): Promise<void> {
  const stored = load();
  try {
    if (stored) {
      await api.del(`/api/push/subscriptions/${stored.id}`).catch((e: unknown) => {
        // Already gone on the box (expired, removed by an admin): nothing left to remove there.
        if (!(e instanceof ApiError && e.status === 404)) throw e;
      });
    }
    save(null);
    const reg = await navigator.serviceWorker.getRegistration();
    await (await reg?.pushManager.getSubscription())?.unsubscribe();
  } catch (e) {
    throw new Error(explain(e), { cause: e });
  }
}

/**
 * Keeps the box's record current: the worker tells open pages when the push service replaced the
 * subscription (it cannot call the API itself, the sign-in token lives here), and a page opened
 * later notices a changed endpoint on its own. Best effort; returns the unsubscribe function.
 */
let syncing: Promise<void> | null = null;

export function watchPush(username: () => string | null): () => void {
  if (!pushSupported()) return () => {};
  // The bell and the drivers' switch can both watch: one resync at a time, or both would re-register.
  const resync = () => (syncing ??= sync().finally(() => { syncing = null; }));
  const sync = async () => {
    const stored = load();
    const who = username();
    if (!stored || !who || stored.username !== who || Notification.permission !== 'granted') return;
    const reg = await navigator.serviceWorker.getRegistration();
    const sub = await reg?.pushManager.getSubscription();
    if (!sub || sub.endpoint === stored.endpoint) return;
    await api.del(`/api/push/subscriptions/${stored.id}`).catch(() => undefined);
    await register(sub, who);
  };
  const onMessage = (e: MessageEvent) => {
    if ((e.data as { type?: unknown } | null)?.type === 'push-subscription-changed') void resync().catch(() => undefined);
  };
  navigator.serviceWorker.addEventListener('message', onMessage);
  void resync().catch(() => undefined);
  return () => navigator.serviceWorker.removeEventListener('message', onMessage);
}

/** The per-kind switches and quiet hours of the signed-in account. */
export interface PushPreferences {
  kinds: Record<PushKind, boolean>;
  quietHours: { from: string; to: string } | null;
}

export type PushKind = 'session-finished' | 'car-idle' | 'reservation-expiring' | 'queue-turn' | 'card-refused';

export const PUSH_KINDS: Array<{ kind: PushKind; label: string }> = [
  { kind: 'session-finished', label: 'Charging finished' },
  { kind: 'car-idle', label: 'Car idle, please move it' },
  { kind: 'reservation-expiring', label: 'Reservation about to expire' },
  { kind: 'queue-turn', label: 'Your turn in the queue' },
  { kind: 'card-refused', label: 'Card refused' },
];

/** null when this box has no preferences yet (an older version answers 404). */
export async function loadPushPreferences(): Promise<PushPreferences | null> {
  try {
    return await api.get<PushPreferences>('/api/push/preferences');
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export function savePushPreferences(p: PushPreferences): Promise<PushPreferences> {
  return api.put<PushPreferences>('/api/push/preferences', p);
}
