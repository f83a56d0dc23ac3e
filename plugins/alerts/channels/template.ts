import type { Notice } from './channel.js';
import { errorMessage } from '../../../core/errors.js';

const WHOLE = /^\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}$/;
const ANY = /\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g;

/** The placeholders a webhook or SMS template may use. */
export function templateVars(notice: Notice): Record<string, unknown> {
  const a = notice.alert;
  return {
    ...notice.payload,
    id: a.id, severity: a.severity, kind: a.kind, chargerId: a.chargerId, chargerName: notice.chargerName,
    message: a.message, action: a.action, state: a.state, raisedAt: a.raisedAt, since: a.since,
    notice: notice.kind, level: notice.level, key: notice.key,
    subject: notice.subject, text: notice.text, short: notice.short,
    link: notice.link, ackUrl: notice.ackUrl ?? '', payload: notice.payload,
  };
}

/** Fills {{name}} placeholders in a string; encode (e.g. encodeURIComponent) applies to each value. */
export function renderString(template: string, vars: Record<string, unknown>, encode: (s: string) => string = (s) => s): string {
  return template.replace(ANY, (_, name: string) => {
    const v = vars[name];
    if (v === undefined || v === null) return '';
    return encode(typeof v === 'object' ? JSON.stringify(v) : String(v));
  });
}

/**
 * Fills a JSON body template. A string that is exactly one placeholder takes
 * the value as it is (numbers stay numbers, {{payload}} an object); other
 * strings get the values spliced in.
 */
export function renderJson(template: unknown, vars: Record<string, unknown>): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    if (whole) return vars[whole[1]!] ?? null;
    return renderString(template, vars);
  }
  if (Array.isArray(template)) return template.map((v) => renderJson(v, vars));
  if (template && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, renderJson(v, vars)]));
  }
  return template;
}

/** POSTs (or PUTs/GETs) and throws with the answer's status and first bytes when it is not 2xx. */
export async function httpSend(url: string, init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number }): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method, headers: init.headers, body: init.method === 'GET' ? undefined : init.body,
      signal: AbortSignal.timeout(init.timeoutMs),
    });
  } catch (err) {
    // fetch says only "fetch failed"; the cause says why (ECONNREFUSED, timeout, TLS).
    const cause = (err as { cause?: { message?: string; code?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (errorMessage(err));
    throw new Error(`${init.method} ${new URL(url).host} failed: ${why}`, { cause: err });
  }
  if (!res.ok) {
    const text = (await res.text().catch(() => '')).slice(0, 200);
    throw new Error(`${init.method} ${new URL(url).host} answered ${res.status}${text ? `: ${text}` : ''}`);
  }
  await res.arrayBuffer().catch(() => undefined);
}
