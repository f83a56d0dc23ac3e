import { Type } from '@sinclair/typebox';
import { Strict } from '../../../core/schema.js';
import type { Severity } from '../../../core/events.js';
import { defineChannel, safeUrl, type Notice } from './channel.js';
import { httpSend, renderJson, renderString, templateVars } from './template.js';

type Preset = 'ntfy' | 'gotify' | 'slack';

const rank = (n: Notice, map: Record<Severity | 'resolved', number>) =>
  n.kind === 'resolved' ? map.resolved : map[n.alert.severity];

/** How each preset shapes the request: where to, which headers, which JSON body. */
const presets: Record<Preset, (n: Notice, url: string, token: string | undefined) => { url: string; headers: Record<string, string>; body: unknown }> = {
  // JSON publishing to the server root: no header encoding limits for titles with umlauts.
  ntfy: (n, url, token) => {
    const u = new URL(url);
    const topic = u.pathname.replace(/^\/+|\/+$/g, '');
    const actions = [
      ...(n.ackUrl ? [{ action: 'view', label: 'Acknowledge', url: n.ackUrl, clear: true }] : []),
      { action: 'view', label: n.alert.chargerId ? 'Open charger' : 'Open alerts', url: n.link },
    ];
    return {
      url: `${u.protocol}//${u.host}/`,
      headers: token ? { authorization: `Bearer ${token}` } : ({} as Record<string, string>),
      body: {
        topic, title: n.subject, message: n.text, click: n.link, actions,
        priority: rank(n, { critical: 5, warning: 4, info: 3, resolved: 3 }),
        tags: [n.kind === 'resolved' ? 'white_check_mark' : n.alert.severity === 'critical' ? 'rotating_light' : n.alert.severity === 'warning' ? 'warning' : 'information_source'],
      },
    };
  },
  gotify: (n, url, token) => ({
    url: /\/message\/?$/.test(new URL(url).pathname) ? url : `${url.replace(/\/+$/, '')}/message`,
    headers: token ? { 'x-gotify-key': token } : ({} as Record<string, string>),
    body: {
      title: n.subject, message: n.text,
      priority: rank(n, { critical: 8, warning: 5, info: 2, resolved: 2 }),
      extras: { 'client::notification': { click: { url: n.ackUrl ?? n.link } } },
    },
  }),
  slack: (n, url) => ({
    url,
    headers: {},
    body: { text: `*${n.subject}*\n${n.alert.message}\n<${n.link}|Open>${n.ackUrl ? ` · <${n.ackUrl}|Acknowledge>` : ''}` },
  }),
};

/** An HTTP POST per notice: generic JSON (templated), or shaped for ntfy, Gotify or Slack-style webhooks. */
export default defineChannel({
  config: Strict({
    url: Type.String({ pattern: '^https?://', 'x-expected': 'a URL like https://ntfy.example.org/garage', description: 'Where the request goes, like https://ntfy.example.org/garage.' }),
    method: Type.Union([Type.Literal('POST'), Type.Literal('PUT')], { default: 'POST', description: 'HTTP method: POST or PUT.' }),
    preset: Type.Optional(Type.Union([Type.Literal('ntfy'), Type.Literal('gotify'), Type.Literal('slack')], { description: 'Shape the request for ntfy, Gotify or a Slack-style webhook; leave out for generic JSON.' })),
    token: Type.Optional(Type.String({ description: 'ntfy access token (Bearer) or Gotify application token.' })),
    // Open: header names are the receiver's.
    headers: Type.Record(Type.String(), Type.String(), { default: {}, description: 'Extra headers, by name; values may use {{placeholders}}.' }),
    body: Type.Optional(Type.Unknown({ description: 'JSON body template for the generic webhook; default "{{payload}}" (the notice\'s JSON).' })),
  }),
  describe: (c) => `${c.preset ?? 'webhook'} ${c.method} ${safeUrl(c.url)}`,
  create(c) {
    return {
      async send(notice) {
        const vars = templateVars(notice);
        const shaped = c.preset
          ? presets[c.preset](notice, c.url, c.token)
          : { url: c.url, headers: {}, body: renderJson(c.body ?? '{{payload}}', vars) };
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          // Receivers that honour it drop a retry of a request that did arrive before a crash.
          'idempotency-key': notice.key,
          ...shaped.headers,
        };
        for (const [k, v] of Object.entries(c.headers)) headers[k.toLowerCase()] = renderString(v, vars);
        await httpSend(shaped.url, { method: c.method, headers, body: JSON.stringify(shaped.body), timeoutMs: c.timeout });
      },
    };
  },
});
