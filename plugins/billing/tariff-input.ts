import { Type, type Static, type TOptional } from '@sinclair/typebox';
import type { FieldProblem } from '../../core/errors.js';
import { Strict } from '../../core/schema.js';
import { formatTrimmed, fromNumber, parseDecimal } from './decimal.js';
import { isCurrency } from './currency.js';
import type { TariffDef, TouPrice } from './tariff.js';
import { DAYS, type Day } from './time.js';
import { overlaps } from './tou.js';

const Price = Type.Number({ minimum: 0 });
const HHMM = Type.String({ format: 'time-hhmm' });

const Window = Strict({
  /** Omitted = every day. */
  days: Type.Optional(Type.Array(Type.Union(DAYS.map((d) => Type.Literal(d))), { minItems: 1, uniqueItems: true })),
  from: HHMM,
  to: HHMM,
  pricePerKwh: Type.Optional(Price),
  pricePerMinute: Type.Optional(Price),
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'an ISO 4217 currency code like EUR' }),
  pricePerKwh: Price,
  pricePerMinute: Price,
  sessionFee: Price,
  timeFeeMode: Type.Union([Type.Literal('always'), Type.Literal('charging'), Type.Literal('idleAfterGrace')]),
  graceMinutes: Type.Integer({ minimum: 0, maximum: 7 * 1440 }),
  minimumAmount: Type.Union([Price, Type.Null()]),
  maximumAmount: Type.Union([Price, Type.Null()]),
  vatPct: Type.Number({ minimum: 0, maximum: 100 }),
  timeOfUse: Type.Array(Window, { maxItems: 50 }),
  chargerIds: Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true }),
  connectorIds: Type.Array(Type.String({ pattern: '^[^:]+:[0-9]+$', description: 'a connector like "CP1:2"' }), { uniqueItems: true }),
  userIds: Type.Array(Type.Integer({ minimum: 1 }), { uniqueItems: true }),
  groupIdTags: Type.Array(Type.String({ minLength: 1, maxLength: 20 }), { uniqueItems: true }),
  /** The site default: used where no more specific tariff applies. Exactly one tariff is the default. */
  isDefault: Type.Boolean(),
};

type Fields = typeof fields;
type Partialed = { [K in keyof Fields]: TOptional<Fields[K]> };
const optional = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as Partialed;

export const TariffCreateBody = Strict({ ...optional, name: fields.name });
export const TariffPatchBody = Strict(optional, { minProperties: 1 });
export type TariffInput = Static<typeof TariffPatchBody>;


/** What input validation needs to know about the site. */
export interface InputContext {
  currency: string;
  vatPct: number;
  chargerExists(id: string): Promise<boolean>;
  userExists(id: number): Promise<boolean>;
}

/**
 * Applies input over a stored version (or the defaults for a new tariff) and
 * checks what the schema cannot: decimal places, the currency, caps, windows,
 * and that named chargers and users exist. Each problem names its field.
 */
export async function buildDef(input: TariffInput, base: TariffDef | null, c: InputContext): Promise<{ def?: TariffDef; errors: FieldProblem[] }> {
  const errors: FieldProblem[] = [];
  const money = (field: string, v: number | null | undefined, fallback: string | null): string | null => {
    if (v === undefined) return fallback;
    if (v === null) return null;
    try {
      return formatTrimmed(fromNumber(v));
    } catch {
      errors.push({ field, message: `expected at most 6 decimal places, got ${v}` });
      return fallback;
    }
  };
  const currency = input.currency ?? base?.currency ?? c.currency;
  if (!isCurrency(currency)) errors.push({ field: 'currency', message: `expected an ISO 4217 currency code, got "${currency}"` });

  const timeOfUse: TouPrice[] = input.timeOfUse
    ? input.timeOfUse.map((w, i) => ({
      days: (w.days ?? [...DAYS]) as Day[], from: w.from, to: w.to,
      pricePerKwh: money(`timeOfUse[${i}].pricePerKwh`, w.pricePerKwh, null),
      pricePerMinute: money(`timeOfUse[${i}].pricePerMinute`, w.pricePerMinute, null),
    }))
    : base?.timeOfUse ?? [];
  timeOfUse.forEach((w, i) => {
    if (w.from === '24:00') errors.push({ field: `timeOfUse[${i}].from`, message: 'expected a time HH:MM before 24:00' });
    else if (w.from === w.to) errors.push({ field: `timeOfUse[${i}].to`, message: 'must differ from "from" (a whole day is 00:00 to 24:00)' });
  });
  if (!errors.some((e) => e.field.startsWith('timeOfUse'))) {
    for (const o of overlaps(timeOfUse)) {
      errors.push({ field: `timeOfUse[${o.index}]`, message: `overlaps timeOfUse[${o.other}] on ${o.day}` });
    }
  }

  const def: TariffDef = {
    name: (input.name ?? base?.name ?? '').trim(),
    currency,
    pricePerKwh: money('pricePerKwh', input.pricePerKwh, base?.pricePerKwh ?? '0')!,
    pricePerMinute: money('pricePerMinute', input.pricePerMinute, base?.pricePerMinute ?? '0')!,
    sessionFee: money('sessionFee', input.sessionFee, base?.sessionFee ?? '0')!,
    timeFeeMode: input.timeFeeMode ?? base?.timeFeeMode ?? 'always',
    graceMinutes: input.graceMinutes ?? base?.graceMinutes ?? 0,
    minimumAmount: money('minimumAmount', input.minimumAmount, base?.minimumAmount ?? null),
    maximumAmount: money('maximumAmount', input.maximumAmount, base?.maximumAmount ?? null),
    vatPct: money('vatPct', input.vatPct, base?.vatPct ?? formatTrimmed(fromNumber(c.vatPct)))!,
    timeOfUse,
    chargerIds: input.chargerIds ?? base?.chargerIds ?? [],
    connectorIds: input.connectorIds ?? base?.connectorIds ?? [],
    userIds: input.userIds ?? base?.userIds ?? [],
    groupIdTags: input.groupIdTags ?? base?.groupIdTags ?? [],
  };
  if (!def.name) errors.push({ field: 'name', message: 'expected a non-empty name' });
  if (def.minimumAmount !== null && def.maximumAmount !== null && parseDecimal(def.minimumAmount) > parseDecimal(def.maximumAmount)) {
    errors.push({ field: 'maximumAmount', message: `must be at least minimumAmount (${def.minimumAmount})` });
  }

  for (const [i, id] of def.chargerIds.entries()) {
    if (!(await c.chargerExists(id))) errors.push({ field: `chargerIds[${i}]`, message: `unknown charger "${id}"` });
  }
  for (const [i, ref] of def.connectorIds.entries()) {
    const chargerId = ref.slice(0, ref.lastIndexOf(':'));
    if (!(await c.chargerExists(chargerId))) errors.push({ field: `connectorIds[${i}]`, message: `unknown charger "${chargerId}"` });
  }
  for (const [i, id] of def.userIds.entries()) {
    if (!(await c.userExists(id))) errors.push({ field: `userIds[${i}]`, message: `unknown user ${id}` });
  }
  return errors.length ? { errors } : { def, errors };
}
