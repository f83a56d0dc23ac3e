// Shapes of the users plugin's API, for its pages.

// The server's own types: type-only imports, erased from the browser bundle (ROLES is a small constant).
import type { Accounts } from '../../../core/accounts.ts';
export type { Account } from '../../../core/accounts.ts';
export type { AuditEntry } from '../../../core/audit.ts';
export { ROLES, type Role } from '../../../core/types.ts';
export type { ListState } from '../local-list-state.ts';
export type { Tag } from '../tags.ts';
export type { UnknownTag } from '../unknown-tags.ts';

/** An API token of an account, as GET /api/users/{id}/tokens lists it. */
export type TokenView = Awaited<ReturnType<Accounts['listTokens']>>[number];

/** "2031-01-01T22:59:59.000Z" → "2031-01-01" in the browser's zone, for a date input. */
export function dateInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
