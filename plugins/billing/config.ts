import { Type, type StaticDecode } from '@sinclair/typebox';
import { Strict, type ConfigProblem } from '../../core/schema.js';
import { isCurrency } from './currency.js';

const Budget = Strict({
  /** The account this cap is for (give this or groupIdTag). */
  userId: Type.Optional(Type.Integer({ minimum: 1 })),
  /** The group (parent) idTag whose cards share this cap. */
  groupIdTag: Type.Optional(Type.String({ minLength: 1 })),
  /** Energy per calendar month (site time zone), kWh. */
  monthlyKwh: Type.Number({ exclusiveMinimum: 0 }),
});

export const BillingConfigSchema = Strict({
  /** ISO 4217 code: the currency of new tariffs and of statements. */
  currency: Type.String({ pattern: '^[A-Z]{3}$', default: 'EUR', description: 'an ISO 4217 currency code like EUR' }),
  /** VAT share of gross prices for tariffs that do not state their own, percent. */
  vatPct: Type.Number({ minimum: 0, maximum: 100, default: 0 }),
  /** Below this power the car counts as idle (time fees "charging" and "idleAfterGrace"), W. */
  idleBelowW: Type.Number({ minimum: 0, default: 100 }),
  /** Monthly energy caps; the users plugin asks budgetExceeded() before accepting a card. */
  budgets: Type.Array(Budget, { default: [] }),
  /** Send the price text to chargers by OCPP DataTransfer when a card is presented. */
  priceDataTransfer: Type.Optional(Strict({
    vendorId: Type.String({ minLength: 1 }),
    messageId: Type.String({ minLength: 1, default: 'Price' }),
  })),
});

export type BillingConfig = StaticDecode<typeof BillingConfigSchema>;

export function validate(c: BillingConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (!isCurrency(c.currency)) out.push({ path: 'currency', message: `expected an ISO 4217 currency code, got "${c.currency}"` });
  c.budgets.forEach((b, i) => {
    if ((b.userId === undefined) === (b.groupIdTag === undefined)) {
      out.push({ path: `budgets[${i}]`, message: 'expected exactly one of userId or groupIdTag' });
    }
  });
  return out;
}
