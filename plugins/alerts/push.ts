import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import webpush from 'web-push';
import type { Knex } from 'knex';
import type { Logger } from '../../core/types.js';
import type { Accounts } from '../../core/accounts.js';
import type { PushSubscriptionDbRow, SettingRow } from './store.js';
import { errorMessage } from '../../core/errors.js';

/** A browser's push subscription, as stored for an account. */
export interface PushSubscriptionRow {
  id: number;
  username: string;
  endpoint: string;
  /** The browser's P-256 public key, base64url. */
  p256dh: string;
  /** The browser's 16-byte auth secret, base64url. */
  auth: string;
}

/** VAPID keys (base64url) that sign every push request. */
export interface VapidKeys { publicKey: string; privateKey: string }

/** How one push is sent; unset keys fall back to the plugin's `push` settings. */
export interface PushOptions {
  subject?: string;
  /** Trusts an extra CA (a self-hosted push service). */
  caFile?: string;
  timeoutMs: number;
  urgency: 'high' | 'normal' | 'low';
  /** How long the push service keeps it for a phone that is off, seconds. */
  ttlSeconds: number;
}

/** The plugin-wide `push` settings. */
export interface PushDefaults { subject: string; caFile?: string }

/** The subscriptions and VAPID keys the webpush channel and driver notices send with; lives in the plugin's closure. */
export interface PushStore {
  keys(): VapidKeys;
  /** Subscriptions of these accounts and of every account with one of these roles. */
  subscriptionsFor(accounts: string[], roles: string[]): Promise<PushSubscriptionRow[]>;
  /** Subscriptions of the enabled account with this id (a driver: users' userId). */
  subscriptionsOfUser(userId: number): Promise<PushSubscriptionRow[]>;
  /** The push service says the subscription is gone (404/410). */
  remove(id: number): Promise<void>;
  /** Sends one payload to each subscription; drops those the service says are gone. */
  send(subs: PushSubscriptionRow[], payload: string, opts: PushOptions): Promise<{ delivered: number; errors: string[] }>;
}

/**
 * The VAPID keys: from config when given there, else those kept in the
 * database (in the data dir), generated on first start.
 */
export async function loadVapid(db: Knex, configured: { vapidPublicKey?: string; vapidPrivateKey?: string }): Promise<VapidKeys> {
  if (configured.vapidPublicKey && configured.vapidPrivateKey) {
    // web-push checks the key lengths; a bad pair fails the start with its message rather than every send.
    webpush.setVapidDetails('mailto:check@localhost', configured.vapidPublicKey, configured.vapidPrivateKey);
    return { publicKey: configured.vapidPublicKey, privateKey: configured.vapidPrivateKey };
  }
  const read = async () => {
    const rows = await db<SettingRow>('alerts_settings').whereIn('key', ['vapid-public', 'vapid-private']);
    const get = (k: string) => rows.find((r) => r.key === k)?.value;
    const publicKey = get('vapid-public');
    const privateKey = get('vapid-private');
    return publicKey && privateKey ? { publicKey, privateKey } : null;
  };
  const have = await read();
  if (have) return have;
  const made = webpush.generateVAPIDKeys();
  await db('alerts_settings').insert([{ key: 'vapid-public', value: made.publicKey }, { key: 'vapid-private', value: made.privateKey }]).onConflict('key').ignore();
  return (await read())!;
}

const toSubscription = (r: PushSubscriptionDbRow): PushSubscriptionRow => ({
  id: Number(r.id), username: r.username, endpoint: r.endpoint, p256dh: r.p256dh, auth: r.auth,
});

export function pushStore(db: Knex, accountsApi: Pick<Accounts, 'enabledUsernames'>, keys: () => VapidKeys, defaults: PushDefaults, log: Logger): PushStore {
  const agents = new Map<string, Agent>();
  const agentFor = (caFile: string | undefined) => {
    if (!caFile) return undefined;
    let agent = agents.get(caFile);
    if (!agent) agents.set(caFile, agent = new Agent({ ca: readFileSync(caFile), keepAlive: true }));
    return agent;
  };
  const store: PushStore = {
    keys,
    async subscriptionsFor(accounts, roles) {
      const names = await accountsApi.enabledUsernames(accounts, roles);
      if (!names.length) return [];
      const rows = await db<PushSubscriptionDbRow>('alerts_push_subscriptions').whereIn('username', names).orderBy('id');
      return rows.map(toSubscription);
    },
    async subscriptionsOfUser(userId) {
      const rows = (await db('alerts_push_subscriptions as s').join('accounts as a', 'a.username', 's.username')
        .where({ 'a.id': userId, 'a.disabled': false }).select('s.*').orderBy('s.id')) as PushSubscriptionDbRow[];
      return rows.map(toSubscription);
    },
    async remove(id) {
      await db('alerts_push_subscriptions').where({ id }).delete();
    },
    async send(subs, payload, opts) {
      const vapid = keys();
      const agent = agentFor(opts.caFile ?? defaults.caFile);
      let delivered = 0;
      const errors: string[] = [];
      for (const s of subs) {
        try {
          await webpush.sendNotification({ endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth } }, payload, {
            vapidDetails: { subject: opts.subject ?? defaults.subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
            TTL: opts.ttlSeconds, timeout: opts.timeoutMs, contentEncoding: 'aes128gcm', urgency: opts.urgency,
            ...(agent ? { agent } : {}),
          });
          delivered++;
        } catch (err) {
          const status = (err as { statusCode?: number }).statusCode;
          // The browser unsubscribed or the subscription expired: it will never work again.
          if (status === 404 || status === 410) {
            await store.remove(s.id);
            log.info(`push subscription ${s.id} of ${s.username} is gone (${status}); removed`);
          } else errors.push(`${s.username}: ${errorMessage(err)}`);
        }
      }
      return { delivered, errors };
    },
  };
  return store;
}
