import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Clock } from './clock.js';
import { hashPassword, randomPassword, verifyPassword } from './passwords.js';
import type { Logger, Principal, Role } from './types.js';

/** An operator or driver account as the API shows it; the password hash never leaves this module. */
export interface Account {
  id: number;
  username: string;
  name: string | null;
  email: string | null;
  role: Role;
  disabled: boolean;
}

export interface AccountInput {
  username: string;
  name?: string | null;
  email?: string | null;
  role: Role;
  password?: string;
  disabled?: boolean;
}

interface AccountRow {
  id: number; username: string; name: string | null; email: string | null;
  role: Role; disabled: number | boolean; password_hash: string | null;
}

const toAccount = (r: AccountRow): Account => ({
  id: r.id, username: r.username, name: r.name, email: r.email, role: r.role, disabled: Boolean(r.disabled),
});

const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** What ended a token's standing: the stream that used it stops. */
type AccountChanged = (accountId: number) => void;

/** Accounts, passwords and bearer tokens. The users plugin builds user management on top of it. */
export class Accounts {
  #db: Knex;
  #clock: Clock;
  #sessionTtlMs: number;
  readonly #watchers = new Set<AccountChanged>();

  constructor(db: Knex, clock: Clock, sessionTtlMs: number) {
    this.#db = db;
    this.#clock = clock;
    this.#sessionTtlMs = sessionTtlMs;
  }

  /** On an empty database, creates `admin` with the given password or a random one printed once. */
  async ensureAdmin(password: string | undefined, log: Logger): Promise<void> {
    const row = await this.#db('accounts').count<{ n: number }[]>({ n: '*' }).first();
    if (Number(row?.n ?? 0) > 0) return;
    const pw = password ?? randomPassword();
    await this.create({ username: 'admin', name: 'Administrator', role: 'admin', password: pw });
    if (password) log.info('created the initial operator "admin" with the password from CHARGEKEEPER_ADMIN_PASSWORD');
    else log.warn(`created the initial operator "admin" with password: ${pw}  (shown once; change it after logging in)`);
  }

  async list(): Promise<Account[]> {
    return (await this.#db<AccountRow>('accounts').orderBy('id')).map(toAccount);
  }

  async get(id: number): Promise<Account | null> {
    const row = await this.#db<AccountRow>('accounts').where({ id }).first();
    return row ? toAccount(row) : null;
  }

  /** Which of these accounts are disabled (their cards stop working). */
  async disabledAmong(ids: number[]): Promise<Set<number>> {
    if (!ids.length) return new Set();
    return new Set(await this.#db<AccountRow>('accounts').whereIn('id', ids).where({ disabled: true }).pluck('id'));
  }

  /** Usernames of the enabled accounts that are named or hold one of the roles (who gets a notice). */
  async enabledUsernames(names: string[], roles: string[]): Promise<string[]> {
    const rows = await this.#db<AccountRow>('accounts').where((w) => {
      w.whereIn('username', names);
      if (roles.length) w.orWhereIn('role', roles);
    }).andWhere({ disabled: false }).select('username');
    return rows.map((r) => r.username);
  }

  async findByUsername(username: string): Promise<Account | null> {
    const row = await this.#db<AccountRow>('accounts').whereRaw('lower(username) = ?', [username.toLowerCase()]).first();
    return row ? toAccount(row) : null;
  }

  async create(input: AccountInput): Promise<Account> {
    const now = this.#clock.iso();
    const [row] = await this.#db('accounts')
      .insert({
        username: input.username, name: input.name ?? null, email: input.email ?? null, role: input.role,
        disabled: input.disabled ?? false,
        password_hash: input.password ? await hashPassword(input.password) : null,
        created_at: now, updated_at: now,
      })
      .returning('id');
    const id = typeof row === 'object' ? (row as { id: number }).id : (row as number);
    return (await this.get(id))!;
  }

  /**
   * Calls back whenever an account's tokens may have lost their standing
   * (logout, revocation, password or role change, disabling, deletion), so a
   * long-lived stream can check its token again. Returns the unsubscribe.
   */
  onChange(fn: AccountChanged): () => void {
    this.#watchers.add(fn);
    return () => this.#watchers.delete(fn);
  }

  #changed(accountId: number): void {
    for (const fn of [...this.#watchers]) fn(accountId);
  }

  /** Changes the given fields and returns the account with how many tokens ended. */
  async updateAccount(id: number, patch: Partial<AccountInput>): Promise<{ account: Account; revokedTokens: number } | null> {
    const before = await this.get(id);
    if (!before) return null;
    const changes: Record<string, unknown> = { updated_at: this.#clock.iso() };
    for (const key of ['username', 'name', 'email', 'role', 'disabled'] as const) {
      if (patch[key] !== undefined) changes[key] = patch[key];
    }
    if (patch.password !== undefined) changes.password_hash = await hashPassword(patch.password);
    await this.#db('accounts').where({ id }).update(changes);
    let revokedTokens = 0;
    // A new password ends everything the old one issued, personal API tokens included;
    // a role change or disabling ends sessions (personal tokens follow the account's role).
    if (patch.password !== undefined) revokedTokens = await this.revokeTokens(id);
    else if ((patch.role && patch.role !== before.role) || patch.disabled) revokedTokens = await this.revokeTokens(id, 'session');
    if (patch.password !== undefined || (patch.role && patch.role !== before.role) || patch.disabled) this.#changed(id);
    return { account: (await this.get(id))!, revokedTokens };
  }

  /** Changes the given fields; a new password revokes every token, a role change or disabling the sessions. */
  async update(id: number, patch: Partial<AccountInput>): Promise<Account | null> {
    return (await this.updateAccount(id, patch))?.account ?? null;
  }

  async remove(id: number): Promise<boolean> {
    await this.revokeTokens(id);
    const removed = (await this.#db('accounts').where({ id }).delete()) > 0;
    this.#changed(id);
    return removed;
  }

  /** Whether the password is this account's, without issuing a token. */
  async checkPassword(id: number, password: string): Promise<boolean> {
    const row = await this.#db<AccountRow>('accounts').where({ id }).first();
    return Boolean(row && !row.disabled && (await verifyPassword(password, row.password_hash)));
  }

  async login(username: string, password: string): Promise<{ token: string; expiresAt: string; principal: Principal } | null> {
    const row = await this.#db<AccountRow>('accounts').whereRaw('lower(username) = ?', [username.toLowerCase()]).first();
    if (!row || row.disabled || !(await verifyPassword(password, row.password_hash))) return null;
    const { token, expiresAt } = await this.createToken(row.id, 'session', null, this.#sessionTtlMs);
    return { token, expiresAt: expiresAt!, principal: { userId: row.id, username: row.username, role: row.role } };
  }

  /** Issues a bearer token; personal API tokens for scripts have no expiry unless given one. */
  async createToken(accountId: number, kind: 'session' | 'personal', label: string | null, ttlMs: number | null): Promise<{ id: number; token: string; expiresAt: string | null }> {
    const token = `ck_${randomBytes(24).toString('base64url')}`;
    const expiresAt = ttlMs ? new Date(this.#clock.nowMs() + ttlMs).toISOString() : null;
    const [row] = await this.#db('auth_tokens')
      .insert({ token_hash: tokenHash(token), account_id: accountId, kind, label, created_at: this.#clock.iso(), expires_at: expiresAt })
      .returning('id');
    const id = typeof row === 'object' ? (row as { id: number }).id : (row as number);
    return { id, token, expiresAt };
  }

  async listTokens(accountId: number): Promise<Array<{ id: number; kind: string; label: string | null; createdAt: string; expiresAt: string | null; lastUsedAt: string | null }>> {
    const rows = await this.#db('auth_tokens').where({ account_id: accountId }).orderBy('id');
    return rows.map((r: Record<string, unknown>) => ({
      id: r.id as number, kind: r.kind as string, label: (r.label as string) ?? null, createdAt: r.created_at as string,
      expiresAt: (r.expires_at as string) ?? null, lastUsedAt: (r.last_used_at as string) ?? null,
    }));
  }

  async revokeToken(accountId: number, tokenId: number): Promise<boolean> {
    const revoked = (await this.#db('auth_tokens').where({ id: tokenId, account_id: accountId }).delete()) > 0;
    if (revoked) this.#changed(accountId);
    return revoked;
  }

  /** Revokes an account's tokens (of one kind, or all); returns how many. */
  async revokeTokens(accountId: number, kind?: 'session' | 'personal'): Promise<number> {
    const q = this.#db('auth_tokens').where({ account_id: accountId });
    if (kind) q.andWhere({ kind });
    const n = await q.delete();
    if (n) this.#changed(accountId);
    return n;
  }

  async logout(token: string): Promise<void> {
    const row = await this.#db('auth_tokens').where({ token_hash: tokenHash(token) }).first('account_id');
    await this.#db('auth_tokens').where({ token_hash: tokenHash(token) }).delete();
    if (row) this.#changed(row.account_id as number);
  }

  /** When a token stops being valid by itself (null: never), for streams that must end then. */
  async expiresAt(token: string): Promise<string | null> {
    const row = await this.#db('auth_tokens').where({ token_hash: tokenHash(token) }).first('expires_at');
    return (row?.expires_at as string | null | undefined) ?? null;
  }

  /** The principal behind a bearer token, or null when unknown, expired or disabled. */
  async authenticate(token: string): Promise<Principal | null> {
    const row = await this.#db('auth_tokens as t')
      .join('accounts as a', 'a.id', 't.account_id')
      .where('t.token_hash', tokenHash(token))
      .select('a.id', 'a.username', 'a.role', 'a.disabled', 't.expires_at', 't.id as token_id', 't.last_used_at')
      .first();
    if (!row || row.disabled) return null;
    const now = this.#clock.iso();
    if (row.expires_at && row.expires_at < now) return null;
    // Recording use once a minute is enough to show "last used" without a write per request.
    if (!row.last_used_at || Date.parse(now) - Date.parse(row.last_used_at as string) > 60_000) {
      await this.#db('auth_tokens').where({ id: row.token_id }).update({ last_used_at: now });
    }
    return { userId: row.id as number, username: row.username as string, role: row.role as Role };
  }
}
