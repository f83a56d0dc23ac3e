import { Type } from '@sinclair/typebox';
import { Strict } from '../../../core/schema.js';
import { defineChannel } from './channel.js';

/** Web Push (RFC 8030/8291/8292) to the browsers and installed PWAs of the accounts named, through their push service. */
export default defineChannel({
  config: Strict({
    accounts: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Usernames whose subscribed browsers are notified.' }),
    roles: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Every account with one of these roles is notified too.' }),
    caFile: Type.Optional(Type.String({ minLength: 1, description: 'A PEM file of an extra CA for a self-hosted push service on a private CA. Default: the plugin\'s push.caFile.' })),
    subject: Type.Optional(Type.String({ pattern: '^(mailto:|https://)', 'x-expected': 'VAPID contact the push service may write to (mailto: or https: URL)', description: 'VAPID contact the push service may write to (mailto: or https: URL). Default: the plugin\'s push.subject.' })),
  }),
  describe: (c) => `web push to ${[...c.accounts, ...c.roles.map((r) => `role ${r}`)].join(', ') || 'nobody'}`,
  create(c, deps) {
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
        const { delivered, errors } = await push.send(subs, payload, {
          subject: c.subject, caFile: c.caFile, timeoutMs: c.timeout, ttlSeconds: 24 * 3600,
          urgency: notice.alert.severity === 'critical' ? 'high' : 'normal',
        });
        // Retried through the outbox only when nobody got it: a retry goes to every subscription again.
        if (!delivered && errors.length) throw new Error(`web push failed: ${errors.join('; ')}`);
      },
    };
  },
});
