import { Type } from '@sinclair/typebox';
import type { Knex } from 'knex';
import { ApiError } from '../../core/errors.js';
import { ROLES, type RouteSpec } from '../../core/types.js';
import { QuietHours } from './config.js';
import { DRIVER_KINDS, readPrefs, writePrefs } from './drivers.js';
import type { PushStore } from './push.js';
import { insertId, type PushSubscriptionDbRow } from './store.js';

const B64URL = '^[A-Za-z0-9_-]+=*$';

/** Web Push: the VAPID key browsers subscribe with, and each account's own subscriptions. */
export function pushRoutes(db: Knex, push: () => PushStore, nowIso: () => string): RouteSpec[] {
  const anyone = [...ROLES];
  return [
    {
      method: 'GET', path: '/push/key', roles: anyone, summary: 'The VAPID public key (base64url) for PushManager.subscribe()',
      handler: () => ({ publicKey: push().keys().publicKey }),
    },
    {
      method: 'POST', path: '/push/subscriptions', roles: anyone, summary: 'Stores the browser\'s PushSubscription for the logged-in account',
      body: Type.Object({
        endpoint: Type.String({ pattern: '^https?://', maxLength: 2048, description: 'the push service URL of this browser' }),
        expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
        keys: Type.Object({
          p256dh: Type.String({ pattern: B64URL, minLength: 80, maxLength: 100, description: 'the browser\'s P-256 public key, base64url' }),
          auth: Type.String({ pattern: B64URL, minLength: 16, maxLength: 32, description: 'the browser\'s auth secret, base64url' }),
        }),
      }),
      handler: async ({ payload, principal }, h) => {
        const body = payload as { endpoint: string; keys: { p256dh: string; auth: string } };
        const username = principal!.username;
        // The same browser subscribing again (or for another account) replaces its earlier entry.
        await db('alerts_push_subscriptions').where({ endpoint: body.endpoint }).delete();
        const id = await insertId(db, 'alerts_push_subscriptions', {
          username, endpoint: body.endpoint, p256dh: body.keys.p256dh, auth: body.keys.auth, created_at: nowIso(),
        });
        return h.response({ id }).code(201);
      },
    },
    {
      method: 'GET', path: '/push/preferences', roles: anyone,
      summary: 'Which notices about their own charging the logged-in account gets on its phones, and its quiet hours',
      handler: ({ principal }) => readPrefs(db, principal!.userId),
    },
    {
      method: 'PUT', path: '/push/preferences', roles: anyone,
      summary: 'Turns kinds of own notices on or off and sets quiet hours (null: the site\'s; from = to: none); answers the result',
      body: Type.Object({
        kinds: Type.Optional(Type.Partial(Type.Object(Object.fromEntries(DRIVER_KINDS.map((k) => [k, Type.Boolean()]))), { additionalProperties: false })),
        quietHours: Type.Optional(Type.Union([QuietHours, Type.Null()])),
      }, { additionalProperties: false }),
      handler: async ({ payload, principal }) => {
        const body = payload as Parameters<typeof writePrefs>[2];
        const prefs = await writePrefs(db, principal!.userId, body, nowIso());
        return prefs;
      },
    },
    {
      method: 'DELETE', path: '/push/subscriptions/{id}', roles: anyone, summary: 'Removes one of the logged-in account\'s push subscriptions',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      handler: async ({ params, principal }, h) => {
        const row = await db<PushSubscriptionDbRow>('alerts_push_subscriptions').where({ id: params.id }).first();
        if (!row || (row.username !== principal!.username && principal!.role !== 'admin')) throw ApiError.notFound(`push subscription ${params.id}`);
        await db('alerts_push_subscriptions').where({ id: params.id }).delete();
        return h.response().code(204);
      },
    },
  ];
}
