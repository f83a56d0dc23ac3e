/** Shown instead of a secret. */
export const MASK = '••••••';

// Keys whose values are secrets wherever they appear in a plugin's settings.
const SECRET_KEY = /(pass(word)?|secret|token|bearer|key|auth(orization)?|credentials?)$/i;

/**
 * A plugin's settings fit to show in the UI: secrets masked. Passwords,
 * tokens and keys by their key name; a URL keeps only its origin when it has
 * a path, a query or a user (webhook URLs such as Slack's are secrets
 * themselves); a plain origin like http://192.168.1.10:8080 is kept.
 */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  }
  if (typeof value !== 'string' || value === '') return value;
  if (SECRET_KEY.test(key)) return MASK;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    try {
      const url = new URL(value);
      const bare = url.pathname.replace(/\/+$/, '') === '' && !url.search && !url.username && !url.password;
      return bare ? value : `${url.protocol}//${url.host}/${MASK}`;
    } catch {
      return value;
    }
  }
  return value;
}
