import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { Type } from '@sinclair/typebox';
import webpush from 'web-push';
import { defineChannel } from './channel.js';

/** Web Push (RFC 8030/8291/8292) to the browsers and installed PWAs of the accounts named, through their push service. */
export default defineChannel({
  config: Type.Object({
    accounts: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'usernames whose subscribed browsers are notified' }),
    roles: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'every account with one of these roles is notified too' }),
    /** PEM file of a CA to trust besides the system's: for a self-hosted push service on a private CA. */
    caFile: Type.Optional(Type.String({ minLength: 1, description: 'a PEM file of an extra CA for a self-hosted push service' })),
    subject: Type.String({ pattern: '^(mailto:|https://)', default: 'mailto:admin@localhost', description: 'VAPID contact the push service may write to (mailto: or https: URL)' }),
  }),
  describe: (c) => `web push to ${[...c.accounts, ...c.roles.map((r) => `role ${r}`)].join(', ') || 'nobody'}`,
  create(c, deps) {
    const agent = c.caFile ? new Agent({ ca: readFileSync(c.caFile), keepAlive: true }) : undefined;
    return {
      async send(notice) {
        const push = deps.push;
        if (!push) throw new Error('web push is not started');
        const subs = await push.subscriptionsFor(c.accounts, c.roles);
        if (!subs.length) return;
        // What the service worker shows: title, body, where a tap goes and the ack link for the action button.
        const payload = JSON.stringify({
          title: notice.subject, body: notice.alert.message, tag: `alert-${notice.alert.id}`, url: notice.link,
          ackUrl: notice.ackUrl, notice: notice.kind, alert: notice.payload,
        });
        const keys = push.keys();
        let delivered = 0;
        const errors: string[] = [];
        for (const s of subs) {
          try {
            await webpush.sendNotification({ endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth } }, payload, {
              vapidDetails: { subject: c.subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
              TTL: 24 * 3600, timeout: c.timeout, contentEncoding: 'aes128gcm',
              urgency: notice.alert.severity === 'critical' ? 'high' : 'normal', ...(agent ? { agent } : {}),
            });
            delivered++;
          } catch (err) {
            const status = (err as { statusCode?: number }).statusCode;
            // The browser unsubscribed or the subscription expired: it will never work again.
            if (status === 404 || status === 410) {
              await push.remove(s.id);
              deps.log.info(`push subscription ${s.id} of ${s.username} is gone (${status}); removed`);
            } else errors.push(`${s.username}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
        // Retried through the outbox only when nobody got it: a retry goes to every subscription again.
        if (!delivered && errors.length) throw new Error(`web push failed: ${errors.join('; ')}`);
      },
    };
  },
});
