import { Type } from '@sinclair/typebox';
import type { Account, AccountInput } from '../../core/accounts.js';
import { ApiError } from '../../core/errors.js';
import { pageOf, pageQuery } from '../../core/http/paging.js';
import { withChecks, type FieldProblem } from '../../core/http/validate.js';
import { MIN_ADMIN_PASSWORD } from '../../core/passwords.js';
import type { CoreServices } from '../../core/services.js';
import { ROLES, STAFF, type Principal, type Role, type RouteSpec } from '../../core/types.js';
import type { TagStore } from './tag-store.js';

const ROLE = Type.Union(ROLES.map((r) => Type.Literal(r)));
const USERNAME = Type.String({ pattern: '^[A-Za-z0-9._@-]{1,64}$', description: 'a username of 1-64 letters, digits or . _ @ -' });
const NAME = Type.Union([Type.String({ maxLength: 100 }), Type.Null()]);
// Blank means "no e-mail"; the spaces around an address are trimmed before it is stored.
const EMAIL = Type.Union([Type.String({
  maxLength: 200, pattern: '^\\s*([^\\s@]+@[^\\s@]+\\.[^\\s@]+)?\\s*$', description: 'an e-mail address like ops@example.org',
}), Type.Null()]);
// Passwords are checked by the route's own checks so a 400 never echoes one back.
const PASSWORD = Type.String();
const IdParam = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const MIN_PASSWORD = 8;
// Who can change the site needs a password that survives guessing from the LAN.
const minPassword = (role: Role | undefined) => (role === 'admin' || role === 'installer' ? MIN_ADMIN_PASSWORD : MIN_PASSWORD);

interface UserBody { username?: string; name?: string | null; email?: string | null; role?: Role; password?: string; disabled?: boolean }

export interface UserRouteDeps { core: CoreServices; tags: TagStore }

/** /api/users: operator and driver accounts on top of the core's accounts, tokens and audit log. */
export function userRoutes({ core, tags }: UserRouteDeps): RouteSpec[] {
  const { accounts, audit } = core;
  const actor = (p: Principal | null) => p!.username;

  const mustGet = async (id: number): Promise<Account> => {
    const a = await accounts.get(id);
    if (!a) throw ApiError.notFound(`user ${id}`);
    return a;
  };

  // What the schema cannot see, reported in the same 400 as the schema's problems (withChecks).
  const check = async (body: Partial<UserBody>, self?: Account | null): Promise<FieldProblem[]> => {
    const errors: FieldProblem[] = [];
    if (typeof body.username === 'string') {
      const other = await accounts.findByUsername(body.username);
      if (other && other.id !== self?.id) errors.push({ field: 'username', message: `"${body.username}" is already taken` });
    }
    const min = minPassword(body.role ?? self?.role);
    if (typeof body.password === 'string' && body.password.length < min) errors.push({ field: 'password', message: `must be at least ${min} characters` });
    return errors;
  };

  // Nobody may lock the site out of its own administration.
  const keepAnAdmin = async (target: Account, what: string) => {
    if (target.role !== 'admin' || target.disabled) return;
    const others = (await accounts.list()).filter((a) => a.role === 'admin' && !a.disabled && a.id !== target.id);
    if (!others.length) throw ApiError.conflict(`cannot ${what} ${target.username}: it is the last admin; make another admin first`);
  };

  // Only an admin manages other people's tokens.
  const ownOrAdmin = (p: Principal | null, id: number) => {
    if (p!.role !== 'admin' && p!.userId !== id) throw new ApiError(403, 'only an admin may manage the tokens of another user');
  };

  const clean = (body: UserBody): UserBody => ({
    ...body,
    ...(body.name !== undefined ? { name: body.name?.trim() || null } : {}),
    ...(body.email !== undefined ? { email: body.email?.trim() || null } : {}),
  });

  return [
    {
      method: 'GET', path: '/users', roles: STAFF,
      summary: 'Operator and driver accounts, oldest first. Paged: ?limit= (default 100, at most 1000), ?offset=; the total in X-Total-Count',
      query: Type.Object(pageQuery()),
      // The accounts table is read whole (the core keeps no paged query); a site has hundreds of accounts, not millions.
      handler: async ({ query }, h) => pageOf(h, await accounts.list(), query),
    },
    {
      method: 'GET', path: '/users/me', roles: [...ROLES], summary: 'The signed-in account',
      handler: ({ principal }) => mustGet(principal!.userId),
    },
    {
      method: 'POST', path: '/users/me/password', roles: [...ROLES],
      summary: 'Change one\'s own password; every session and personal API token ends (revokedTokens says how many) and a new session token is returned',
      body: Type.Object({ currentPassword: PASSWORD, newPassword: PASSWORD }, { additionalProperties: false }),
      handler: async ({ payload, principal }) => {
        const me = await mustGet(principal!.userId);
        const min = minPassword(me.role);
        if (payload.newPassword.length < min) throw ApiError.badRequest([{ field: 'newPassword', message: `must be at least ${min} characters` }]);
        if (!(await accounts.checkPassword(me.id, payload.currentPassword))) {
          await audit.record(me.username, 'user.password-change-failed', `user:${me.username}`);
          throw ApiError.badRequest([{ field: 'currentPassword', message: 'is wrong' }]);
        }
        const { revokedTokens } = (await accounts.updateAccount(me.id, { password: payload.newPassword }))!;
        await audit.record(me.username, 'user.password-change', `user:${me.username}`, { revokedTokens });
        const fresh = await accounts.login(me.username, payload.newPassword);
        return { token: fresh!.token, expiresAt: fresh!.expiresAt, revokedTokens };
      },
    },
    {
      method: 'GET', path: '/users/{id}', roles: STAFF, summary: 'One account',
      params: IdParam,
      handler: ({ params }) => mustGet(params.id),
    },
    withChecks<UserBody>({
      method: 'POST', path: '/users', roles: [], summary: 'Create an account (password optional: drivers may only use cards); every bad field is named in one 400',
      body: Type.Object({
        username: USERNAME, role: ROLE, name: Type.Optional(NAME), email: Type.Optional(EMAIL),
        password: Type.Optional(PASSWORD), disabled: Type.Optional(Type.Boolean()),
      }, { additionalProperties: false }),
      handler: async ({ payload, principal }, h) => {
        const body = clean(payload as UserBody);
        let created: Account;
        try {
          created = await accounts.create(body as AccountInput);
        } catch (err) {
          // Two requests for one name at once: the unique index settles it.
          if (/unique/i.test(String(err))) throw ApiError.badRequest([{ field: 'username', message: `"${body.username}" is already taken` }]);
          throw err;
        }
        await audit.record(actor(principal), 'user.create', `user:${created.username}`, { id: created.id, role: created.role, password: body.password ? 'set' : 'none' });
        return h.response(created).code(201);
      },
    }, ({ payload }) => check(payload)),
    withChecks<UserBody>({
      method: 'PATCH', path: '/users/{id}', roles: [],
      summary: 'Change an account; a new password ends its sessions and personal tokens, a role change or disabling its sessions (revokedTokens says how many); every bad field is named in one 400',
      params: IdParam,
      body: Type.Object({
        username: Type.Optional(USERNAME), role: Type.Optional(ROLE), name: Type.Optional(NAME), email: Type.Optional(EMAIL),
        password: Type.Optional(PASSWORD), disabled: Type.Optional(Type.Boolean()),
      }, { additionalProperties: false }),
      handler: async ({ params, payload, principal }) => {
        const before = await mustGet(params.id);
        const body = clean(payload as UserBody);
        if ((body.role && body.role !== 'admin') || body.disabled === true) await keepAnAdmin(before, body.disabled ? 'disable' : 'demote');
        let after: Account;
        let revokedTokens = 0;
        try {
          ({ account: after, revokedTokens } = (await accounts.updateAccount(before.id, body))!);
        } catch (err) {
          if (/unique/i.test(String(err))) throw ApiError.badRequest([{ field: 'username', message: `"${body.username}" is already taken` }]);
          throw err;
        }
        const changed: Record<string, unknown> = {};
        for (const k of ['username', 'name', 'email', 'role', 'disabled'] as const) {
          if (body[k] !== undefined && body[k] !== before[k]) changed[k] = { from: before[k], to: after[k] };
        }
        if (Object.keys(changed).length) await audit.record(actor(principal), 'user.update', `user:${after.username}`, changed);
        if (body.password !== undefined) await audit.record(actor(principal), 'user.password-reset', `user:${after.username}`, { revokedTokens });
        if (body.disabled !== undefined && body.disabled !== before.disabled) await tags.ownerChanged(after.id);
        return { ...after, revokedTokens };
      },
    }, async ({ payload, raw }) => check(payload, await accounts.get(Number(raw.params.id)))),
    {
      method: 'DELETE', path: '/users/{id}', roles: [],
      summary: 'Delete an account: its tokens end, its cards are blocked and unassigned',
      params: IdParam,
      handler: async ({ params, principal }, h) => {
        const target = await mustGet(params.id);
        await keepAnAdmin(target, 'delete');
        const blocked = await tags.ownerChanged(target.id, { block: true });
        await accounts.remove(target.id);
        await audit.record(actor(principal), 'user.delete', `user:${target.username}`, { id: target.id, role: target.role, tagsBlocked: blocked });
        return h.response().code(204);
      },
    },
    {
      method: 'GET', path: '/users/{id}/tokens', roles: [...ROLES],
      summary: 'Sessions and personal API tokens of an account (own, or any for an admin), oldest first. Paged: ?limit= (default 100, at most 1000), ?offset=; the total in X-Total-Count',
      params: IdParam,
      query: Type.Object(pageQuery()),
      // Every login adds a session row, so this list grows; the core reads one account's tokens whole.
      handler: async ({ params, query, principal }, h) => {
        ownOrAdmin(principal, params.id);
        await mustGet(params.id);
        return pageOf(h, await accounts.listTokens(params.id), query);
      },
    },
    {
      method: 'POST', path: '/users/{id}/tokens', roles: [...ROLES], summary: 'Create a personal API token for scripts; its value is shown only in this answer',
      params: IdParam,
      body: Type.Object({
        label: Type.String({ minLength: 1, maxLength: 100 }),
        expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
      }, { additionalProperties: false }),
      handler: async ({ params, payload, principal }, h) => {
        ownOrAdmin(principal, params.id);
        const owner = await mustGet(params.id);
        const ttl = payload.expiresInDays ? payload.expiresInDays * 86_400_000 : null;
        const created = await accounts.createToken(owner.id, 'personal', payload.label, ttl);
        await audit.record(actor(principal), 'token.create', `user:${owner.username}`, { tokenId: created.id, label: payload.label, expiresAt: created.expiresAt });
        return h.response({ id: created.id, kind: 'personal', label: payload.label, token: created.token, expiresAt: created.expiresAt }).code(201);
      },
    },
    {
      method: 'DELETE', path: '/users/{id}/tokens/{tokenId}', roles: [...ROLES], summary: 'Revoke a session or personal token',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }), tokenId: Type.Integer({ minimum: 1 }) }),
      handler: async ({ params, principal }, h) => {
        ownOrAdmin(principal, params.id);
        const owner = await mustGet(params.id);
        if (!(await accounts.revokeToken(owner.id, params.tokenId))) throw ApiError.notFound(`token ${params.tokenId} of user ${owner.id}`);
        await audit.record(actor(principal), 'token.revoke', `user:${owner.username}`, { tokenId: params.tokenId });
        return h.response().code(204);
      },
    },
  ];
}
