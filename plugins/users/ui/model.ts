// Shapes of the users plugin's API, for its pages. No imports: the root TypeScript build checks this file too.

export type Role = 'admin' | 'installer' | 'technician' | 'viewer' | 'driver';
export const ROLES: Role[] = ['admin', 'installer', 'technician', 'viewer', 'driver'];

export interface UserAccount {
  id: number;
  username: string;
  name: string | null;
  email: string | null;
  role: Role;
  disabled: boolean;
}

export interface TagView {
  idTag: string;
  userId: number | null;
  status: 'Accepted' | 'Blocked';
  expiresAt: string | null;
  parentIdTag: string | null;
  chargerIds: string[] | null;
  note: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface UnknownTagView {
  idTag: string;
  chargerId: string;
  connectorId: number | null;
  context: string;
  firstSeenAt: string;
  lastSeenAt: string;
  count: number;
}

export interface TokenView {
  id: number;
  kind: 'session' | 'personal' | string;
  label: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  target: string | null;
  detail: unknown;
}

export interface ListStateView {
  chargerId: string;
  supported: boolean | null;
  listVersion: number | null;
  cacheEnabled: boolean | null;
  dirty: boolean;
  syncedAt: string | null;
  lastError: string | null;
}

/** "2031-01-01T22:59:59.000Z" → "2031-01-01" in the browser's zone, for a date input. */
export function dateInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
