import { Type } from '@sinclair/typebox';
import { Strict } from '../../../core/schema.js';
import { defineChannel, safeUrl } from './channel.js';
import { httpSend, renderString, templateVars } from './template.js';
import { errorMessage } from '../../../core/errors.js';

/**
 * SMS through an HTTP gateway: one request per recipient. The URL and the
 * body are templates with {{to}} and {{message}} (the short text with the
 * ack link), plus every placeholder a webhook has.
 */
export default defineChannel({
  config: Strict({
    url: Type.String({ pattern: '^https?://', 'x-expected': 'a URL like https://sms.example.org/send', description: 'HTTP API of the SMS gateway, like https://sms.example.org/send.' }),
    method: Type.Union([Type.Literal('POST'), Type.Literal('PUT'), Type.Literal('GET')], { default: 'POST', description: 'HTTP method of the request: POST, PUT or GET.' }),
    // Open: header names are the gateway's.
    headers: Type.Record(Type.String(), Type.String(), { default: {}, description: 'Extra request headers, by name.' }),
    body: Type.String({ default: '{"to":"{{to}}","message":"{{message}}"}', description: 'Request body; {{to}} and {{message}} are filled in (JSON-escaped when contentType is JSON).' }),
    contentType: Type.String({ default: 'application/json', description: 'Content-Type of the request body.' }),
    to: Type.Array(Type.String({ minLength: 3 }), { minItems: 1, description: 'Phone numbers to text, one request each.' }),
    auth: Type.Optional(Type.Union([
      Strict({ user: Type.String({ description: 'User name (HTTP basic auth).' }), pass: Type.String({ description: 'Password (HTTP basic auth).' }) }),
      Strict({ bearer: Type.String({ description: 'Bearer token.' }) }),
    ], { description: 'Log in to the gateway: user and pass (basic auth) or bearer (a token).' })),
  }),
  describe: (c) => `SMS gateway ${c.method} ${safeUrl(c.url)} to ${c.to.length} number(s)`,
  create(c) {
    // Recipients already reached per notice, so a retry after a partial failure texts only the rest.
    const reached = new Map<string, Set<string>>();
    const json = /json/i.test(c.contentType);
    // A JSON string value without its quotes.
    const escape = (s: string) => (json ? JSON.stringify(s).slice(1, -1) : c.contentType.includes('urlencoded') ? encodeURIComponent(s) : s);
    return {
      async send(notice) {
        const done = reached.get(notice.key) ?? new Set<string>();
        reached.set(notice.key, done);
        const errors: string[] = [];
        for (const to of c.to) {
          if (done.has(to)) continue;
          const vars = { ...templateVars(notice), to, message: notice.short };
          const headers: Record<string, string> = { 'content-type': c.contentType, 'idempotency-key': `${notice.key}:${to}` };
          if (c.auth && 'bearer' in c.auth) headers.authorization = `Bearer ${c.auth.bearer}`;
          else if (c.auth) headers.authorization = `Basic ${Buffer.from(`${c.auth.user}:${c.auth.pass}`).toString('base64')}`;
          for (const [k, v] of Object.entries(c.headers)) headers[k.toLowerCase()] = renderString(v, vars);
          try {
            await httpSend(renderString(c.url, vars, encodeURIComponent), {
              method: c.method, headers, body: renderString(c.body, vars, escape), timeoutMs: c.timeout,
            });
            done.add(to);
          } catch (err) {
            errors.push(`${to}: ${errorMessage(err)}`);
          }
        }
        if (errors.length) throw new Error(errors.join('; '));
        reached.delete(notice.key);
      },
    };
  },
});
