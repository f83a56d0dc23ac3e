/**
 * One redaction step for what operators send to chargers, applied before a
 * command reaches the event bus (and so every browser's event stream) or the
 * audit log, which viewers read. The charger itself gets the real payload.
 */

export const REDACTED = '[redacted]';

/**
 * Configuration keys whose values are secrets: the 1.6 security whitepaper's
 * AuthorizationKey (the charger's basic-auth password) and vendor keys that
 * say what they hold.
 */
const SECRET_KEY = /authori[sz]ationkey|password|passwd|secret|token|apikey|api_key|privatekey|psk/i;

export const isSecretConfigKey = (key: string): boolean => SECRET_KEY.test(key);

// A path segment or query value this long of base64url is a bearer of rights (one-time upload tokens).
const TOKENISH = /^[A-Za-z0-9_-]{16,}$/;

/** A URL with its password and token-like path segments and query values replaced. */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (!url.host) return text;
  if (url.password) url.password = 'redacted';
  url.pathname = url.pathname.split('/').map((seg) => (TOKENISH.test(seg) ? 'redacted' : seg)).join('/');
  for (const [k, v] of [...url.searchParams]) if (TOKENISH.test(v) || isSecretConfigKey(k)) url.searchParams.set(k, 'redacted');
  return url.toString();
}

function walk(value: unknown, depth: number): unknown {
  if (depth > 8) return value;
  if (typeof value === 'string') return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : value;
  if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // { key, value } pairs: ChangeConfiguration's request and GetConfiguration's configurationKey entries.
  const secretPair = typeof obj.key === 'string' && isSecretConfigKey(obj.key);
  // OCPP 2.0.1 SetVariables/GetVariables entries: { component, variable: { name }, attributeValue }.
  const variableName = (obj.variable as { name?: unknown } | undefined)?.name;
  const secretVariable = typeof variableName === 'string' && isSecretConfigKey(variableName);
  for (const [k, v] of Object.entries(obj)) {
    const secretValue = (secretPair && k === 'value') || (secretVariable && k === 'attributeValue');
    // idToken is a 2.0.1 card id (1.6's idTag), shown like one: "token" in its name is no secret.
    out[k] = (secretValue && v !== undefined && v !== null && v !== '') || (k !== 'key' && k !== 'idToken' && isSecretConfigKey(k) && typeof v === 'string')
      ? REDACTED
      : walk(v, depth + 1);
  }
  return out;
}

/** A command's request or response as it may be shown: secrets replaced, everything else as it was. */
export function redactCommand(payload: unknown): unknown {
  return walk(payload, 0);
}

/** Free text (an error message) with every URL in it cut to its origin, for people who may not see targets. */
export function urlsToOrigins(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (found) => {
    try {
      return new URL(found).origin;
    } catch {
      return '[url]';
    }
  });
}
