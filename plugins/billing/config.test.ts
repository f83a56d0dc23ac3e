import { describe, expect, it } from 'vitest';
import { decode } from '../../core/schema.js';
import { BillingConfigSchema, validate, type BillingConfig } from './config.js';

const check = (raw: unknown) => {
  const { value, problems } = decode<BillingConfig>(BillingConfigSchema, raw);
  return value ? validate(value) : problems;
};

describe('the billing config', () => {
  it('accepts an empty section with EUR, no VAT and no budgets', () => {
    expect(decode<BillingConfig>(BillingConfigSchema, {}).value).toMatchObject({ currency: 'EUR', vatPct: 0, idleBelowW: 100, budgets: [] });
  });

  it('names an unknown currency and a budget that is for nobody or for two', () => {
    expect(check({ currency: 'EUX' })).toEqual([{ path: 'currency', message: 'expected an ISO 4217 currency code, got "EUX"' }]);
    expect(check({ budgets: [{ monthlyKwh: 10 }, { userId: 1, groupIdTag: 'G', monthlyKwh: 10 }, { userId: 1, monthlyKwh: 10 }] }).map((p) => p.path))
      .toEqual(['budgets[0]', 'budgets[1]']);
    expect(check({ budgets: [{ userId: 1, monthlyKwh: 0 }] }).map((p) => p.path)).toEqual(['budgets[0].monthlyKwh']);
  });
});
