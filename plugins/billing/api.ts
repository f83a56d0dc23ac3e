import type { BudgetStatus } from './budgets.js';

export type { BudgetStatus } from './budgets.js';
export type { Statement, StatementSession } from './statements.js';

/**
 * The billing plugin's public surface: what other plugins get from
 * ctx.use('billing'). They `import type` it from here and never import the
 * plugin's code.
 */
export interface BillingApi {
  /**
   * Whether a monthly energy budget of this account, or of the card's group
   * (parent tag), is used up. Billing itself answers the core's `restrict`
   * decision with Blocked when it is.
   */
  budgetExceeded(userId: number | null, idTag?: string): Promise<boolean>;
  /** The budgets that concern an account or card, with the reason in words when one is used up. */
  budgetStatus(userId: number | null, idTag?: string): Promise<BudgetStatus[]>;
}
