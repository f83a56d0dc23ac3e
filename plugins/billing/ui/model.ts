// Shapes the billing API answers with, as the pages use them.

// The server's own types: type-only imports, erased from the browser bundle.
import type { TariffView, TimeFeeMode } from '../tariff.ts';
export type { TariffView, TimeFeeMode };
export type { BudgetStatus } from '../budgets.ts';
export type { Statement, StatementSession } from '../statements.ts';
export const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

export type TouWindowView = TariffView['timeOfUse'][number];

export interface Assignment {
  chargerId: string;
  connectorId: number | null;
  tariffId: number | null;
  tariffName: string | null;
  rule: string | null;
  groupTariffs: Array<{ id: number; name: string; userIds: number[]; groupIdTags: string[] }>;
}

export const MODE_TEXT: Record<TimeFeeMode, string> = {
  always: 'the whole session',
  charging: 'only while charging',
  idleAfterGrace: 'only when idle past the grace period',
};

/** "2026-03" for the month a date falls in (the browser's clock). */
export function monthOf(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}
