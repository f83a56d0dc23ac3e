import { FormatRegistry, Type, type TSchema, type TString, type TTransform, type TObject, type TProperties, type ObjectOptions } from '@sinclair/typebox';
import { Value, type ValueError } from '@sinclair/typebox/value';

/** A problem in a config section or request: the key path, what was expected, what was found. */
export interface ConfigProblem {
  path: string;
  message: string;
}

// TypeBox checks no string format until it is registered; these are the ones the API uses.
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => DATE_TIME_RE.test(v) && !Number.isNaN(Date.parse(v)));
if (!FormatRegistry.Has('date')) FormatRegistry.Set('date', (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)));
if (!FormatRegistry.Has('time-hhmm')) FormatRegistry.Set('time-hhmm', (v) => /^([01]\d|2[0-3]):[0-5]\d$/.test(v) || v === '24:00');
if (!FormatRegistry.Has('email')) FormatRegistry.Set('email', (v) => /^[^\s@]+@[^\s@]+$/.test(v));
if (!FormatRegistry.Has('uri')) FormatRegistry.Set('uri', (v) => { try { return Boolean(new URL(v).protocol); } catch { return false; } });

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses "90s", "15m", "2h", "1d", "250ms" into milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text.trim());
  if (!m) throw new Error(`expected a duration like 90s, 15m or 2h, got "${text}"`);
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0 && ms >= size) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A duration written as "90s" in YAML, decoded to milliseconds. */
export function Duration(options: { default?: string; description?: string } = {}): TTransform<TString, number> {
  return Type.Transform(
    Type.String({ pattern: DURATION_RE.source, 'x-kind': 'duration', ...options }),
  )
    .Decode((v) => parseDuration(v))
    .Encode((ms) => formatDuration(ms));
}

/** An object that refuses unknown keys, so typos in a site config are reported. */
export function Strict<T extends TProperties>(props: T, options: ObjectOptions = {}): TObject<T> {
  return Type.Object(props, { additionalProperties: false, ...options });
}

export function jsonPointerToPath(pointer: string, prefix = ''): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = prefix;
  for (const part of parts) {
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text && text.length > 60 ? `${text.slice(0, 57)}...` : String(text);
}

function expected(schema: TSchema, error: ValueError): string {
  const s = schema as Record<string, unknown>;
  const anyOf = s.anyOf as TSchema[] | undefined;
  if (anyOf && anyOf.every((b) => 'const' in b)) {
    return `one of ${anyOf.map((b) => String((b as unknown as { const: unknown }).const)).join(', ')}`;
  }
  // "a value or null" (optional-and-clearable fields) says what the value should be.
  const some = anyOf?.filter((b) => (b as { type?: string }).type !== 'null');
  if (anyOf && some?.length === 1 && anyOf.length === 2) return `${expected(some[0]!, error)} or null`;
  if (s['x-kind'] === 'duration') return 'a duration like 90s, 15m or 2h';
  if (s.format === 'time-hhmm') return 'a time HH:MM';
  if (s.format === 'date-time') return 'an ISO 8601 date-time like 2026-05-01T08:00:00Z';
  if (s.format === 'date') return 'a date YYYY-MM-DD';
  if (s.format === 'email') return 'an e-mail address';
  if (s.format === 'uri') return 'a URL';
  // A patterned string says what it expects: in `x-expected` where its description speaks to the installer.
  const hint = s['x-expected'] ?? s.description;
  if (typeof s.pattern === 'string' && hint) return String(hint);
  if (s.type === 'integer' || s.type === 'number') {
    const bounds: string[] = [];
    if (s.minimum !== undefined) bounds.push(`>= ${s.minimum}`);
    if (s.maximum !== undefined) bounds.push(`<= ${s.maximum}`);
    const kind = s.type === 'integer' ? 'an integer' : 'a number';
    return bounds.length ? `${kind} ${bounds.join(' and ')}` : kind;
  }
  if (s.type === 'string') {
    if (s.minLength) return `a non-empty string`;
    if (s.format) return `a ${s.format} string`;
    return 'a string';
  }
  if (s.type === 'boolean') return 'true or false';
  if (s.type === 'array') return 'a list';
  if (s.type === 'object') return 'a mapping';
  return error.message.replace(/^Expected /, '').toLowerCase();
}

/**
 * Validates a value against a schema and turns TypeBox errors into one
 * problem per key path: "ocpp.unknownChargers: expected one of accept, pending, reject, got "maybe"".
 */
export function problems(schema: TSchema, value: unknown, prefix = ''): ConfigProblem[] {
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  for (const error of Value.Errors(schema, value)) {
    const path = jsonPointerToPath(error.path, prefix) || '(root)';
    // A union reports its branches too; the first error at a path says enough.
    if ([...seen].some((p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`))) continue;
    seen.add(path);
    let message: string;
    const s = error.schema as Record<string, unknown>;
    if (error.value === undefined) {
      message = `is required (${expected(error.schema, error)})`;
    } else if (error.message.startsWith('Unexpected property')) {
      const known = Object.keys((s.properties as object) ?? {});
      message = known.length ? `unknown key; expected one of ${known.join(', ')}` : 'unknown key';
    } else {
      message = `expected ${expected(error.schema, error)}, got ${show(error.value)}`;
    }
    out.push({ path, message });
  }
  return out;
}

/** Applies defaults, checks, then decodes transforms (durations). Throws nothing: problems come back as a list. */
export function decode<T>(schema: TSchema, raw: unknown, prefix = ''): { value?: T; problems: ConfigProblem[] } {
  const start = raw === undefined || raw === null ? ((schema as { type?: string }).type === 'object' ? {} : raw) : raw;
  const copy = Value.Default(schema, Value.Clone(start));
  const found = problems(schema, copy, prefix);
  if (found.length) return { problems: found };
  return { value: Value.Decode(schema, copy) as T, problems: [] };
}
