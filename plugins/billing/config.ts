import { Type, type StaticDecode } from '@sinclair/typebox';
import { Strict, type ConfigProblem } from '../../core/schema.js';
import { isCurrency } from './currency.js';

const Budget = Strict({
  userId: Type.Optional(Type.Integer({ minimum: 1, description: 'The account this cap is for (give this or groupIdTag).' })),
  groupIdTag: Type.Optional(Type.String({ minLength: 1, description: 'The group (parent) idTag whose cards share this cap (give this or userId).' })),
  monthlyKwh: Type.Number({ exclusiveMinimum: 0, 'x-unit': 'kWh', description: 'Energy allowed per calendar month (site time zone), kWh.' }),
});

export const BillingConfigSchema = Strict({
  currency: Type.String({ pattern: '^[A-Z]{3}$', default: 'EUR', 'x-expected': 'an ISO 4217 currency code like EUR', description: 'ISO 4217 code of the currency of new tariffs and of statements, like EUR.' }),
  vatPct: Type.Number({ minimum: 0, maximum: 100, default: 0, 'x-unit': '%', description: 'VAT share of gross prices for tariffs that do not state their own, percent.' }),
  idleBelowW: Type.Number({ minimum: 0, default: 100, 'x-unit': 'W', description: 'Below this power the car counts as idle (time fees "charging" and "idleAfterGrace"), W.' }),
  // The users plugin asks budgetExceeded() before accepting a card.
  budgets: Type.Array(Budget, { default: [], description: 'Monthly energy caps: a card over its cap is refused.' }),
  priceDataTransfer: Type.Optional(Strict({
    vendorId: Type.String({ minLength: 1, description: 'DataTransfer vendorId the chargers expect.' }),
    messageId: Type.String({ minLength: 1, default: 'Price', description: 'DataTransfer messageId the chargers expect.' }),
  }, { description: 'Send the price text to chargers by OCPP DataTransfer when a card is presented; leave out for chargers that cannot show it.' })),
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
