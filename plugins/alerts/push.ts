import webpush from 'web-push';
import type { Knex } from 'knex';
import type { Row } from './store.js';

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

/** The subscriptions and VAPID keys the webpush channel sends with; lives in the plugin's closure. */
export interface PushStore {
  keys(): VapidKeys;
  /** Subscriptions of these accounts and of every account with one of these roles. */
  subscriptionsFor(accounts: string[], roles: string[]): Promise<PushSubscriptionRow[]>;
  /** The push service says the subscription is gone (404/410). */
  remove(id: number): Promise<void>;
}

/** Loads the VAPID keys kept in the database (in the data dir), generating them on first start. */
export async function loadVapid(db: Knex): Promise<VapidKeys> {
  const read = async () => {
    const rows = (await db('alerts_settings').whereIn('key', ['vapid-public', 'vapid-private'])) as Row[];
    const get = (k: string) => rows.find((r) => r.key === k)?.value as string | undefined;
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

export function pushStore(db: Knex, keys: () => VapidKeys): PushStore {
  return {
    keys,
    async subscriptionsFor(accounts, roles) {
      const names = (await db('accounts').where((w) => {
        w.whereIn('username', accounts);
        if (roles.length) w.orWhereIn('role', roles);
      }).andWhere({ disabled: false }).select('username')) as Row[];
      if (!names.length) return [];
      const rows = (await db('alerts_push_subscriptions').whereIn('username', names.map((r) => r.username as string)).orderBy('id')) as Row[];
      return rows.map((r) => ({
        id: Number(r.id), username: r.username as string, endpoint: r.endpoint as string, p256dh: r.p256dh as string, auth: r.auth as string,
      }));
    },
    async remove(id) {
      await db('alerts_push_subscriptions').where({ id }).delete();
    },
  };
}
