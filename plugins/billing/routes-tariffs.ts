import { Type } from '@sinclair/typebox';
import { ApiError } from '../../core/errors.js';
import type { CoreServices } from '../../core/services.js';
import { ROLES, STAFF, type Principal, type RouteSpec } from '../../core/types.js';
import { matchRule, resolveTariff, RULES, type Who } from './assign.js';
import type { BillingConfig } from './config.js';
import { pricesAt, priceText } from './price-text.js';
import { buildDef, TariffCreateBody, TariffPatchBody, type InputContext, type TariffInput } from './tariff-input.js';
import type { Tariffs } from './tariffs.js';
import type { UsersApi } from '../users/api.js';

export interface TariffRouteDeps {
  core: CoreServices;
  config: BillingConfig;
  tariffs: Tariffs;
  users: () => UsersApi | undefined;
}

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** How the most specific tariff is chosen, in words (shown in the UI and the README). */
export const RULE_TEXT = 'The most specific tariff wins: connector > charger + group > charger > group > site default. '
  + 'A group is a list of users or of group (parent) RFID tags. Equally specific tariffs: the lowest id wins.';

export function tariffRoutes(d: TariffRouteDeps): RouteSpec[] {
  const input: InputContext = {
    currency: d.config.currency,
    vatPct: d.config.vatPct,
    chargerExists: async (id) => (await d.core.chargers.get(id)) !== null,
    userExists: async (id) => (await d.core.accounts.get(id)) !== null,
  };
  const found = async (id: number) => {
    const t = await d.tariffs.get(id);
    if (!t) throw ApiError.notFound(`tariff ${id}`);
    return t;
  };

  /** The groups (lower-case parent tags) of a card, or of all of an account's cards. */
  const groupsOf = async (userId: number | null, idTag: string | undefined): Promise<string[]> => {
    const users = d.users();
    const keys = new Set<string>();
    if (idTag) {
      keys.add(idTag.toLowerCase());
      const tag = await users?.findTag(idTag);
      if (tag?.parentIdTag) keys.add(tag.parentIdTag.toLowerCase());
    } else if (userId !== null && users?.tagsOf) {
      for (const t of await users.tagsOf(userId)) {
        keys.add(t.idTag.toLowerCase());
        if (t.parentIdTag) keys.add(t.parentIdTag.toLowerCase());
      }
    }
    return [...keys];
  };

  return [
    {
      method: 'GET', path: '/tariffs', roles: [...ROLES], summary: 'Tariffs (current versions)',
      handler: async () => d.tariffs.list(),
    },
    {
      method: 'POST', path: '/tariffs', roles: [], summary: 'Create a tariff; the first one becomes the site default',
      body: TariffCreateBody,
      handler: async ({ payload, principal }, h) => {
        const body = payload as TariffInput;
        const { def, errors } = await buildDef(body, null, input);
        if (!def) throw ApiError.badRequest(errors);
        const isDefault = body.isDefault ?? !(await d.tariffs.hasDefault());
        const id = await d.tariffs.create(def, isDefault, (principal as Principal).username);
        await d.core.audit.record((principal as Principal).username, 'tariff.create', `tariff:${id}`, { name: def.name, isDefault });
        return h.response(d.tariffs.view((await d.tariffs.get(id))!)).code(201);
      },
    },
    {
      method: 'GET', path: '/tariffs/current', roles: [...ROLES],
      summary: 'The tariff and prices that apply now at a charger for the caller (or, for staff, a given user or card)',
      query: Type.Object({
        chargerId: Type.String({ minLength: 1 }),
        connectorId: Type.Optional(Type.Integer({ minimum: 0 })),
        userId: Type.Optional(Type.Integer({ minimum: 1 })),
        idTag: Type.Optional(Type.String({ minLength: 1 })),
      }),
      handler: async ({ query, principal }) => {
        const me = principal as Principal;
        if (!(await d.core.chargers.get(query.chargerId))) throw ApiError.notFound(`charger ${query.chargerId}`);
        const driver = me.role === 'driver';
        const userId: number = driver ? me.userId : (query.userId ?? me.userId);
        let idTag: string | undefined = query.idTag;
        if (driver && idTag) {
          // A driver may ask about their own cards only.
          const tag = await d.users()?.findTag(idTag);
          if (!tag || tag.userId !== me.userId) throw new ApiError(403, `card ${idTag} is not yours`);
        }
        const who: Who = { chargerId: query.chargerId, connectorId: query.connectorId ?? null, userId, groupKeys: await groupsOf(userId, idTag) };
        const best = resolveTariff(await d.tariffs.candidates(), who);
        // No tariff yet is a normal state of a new site, not an error: the UI then shows no price.
        if (!best) return { tariff: null, rule: null, currency: null, prices: null, text: null };
        const current = (await d.tariffs.get(best.tariff.id))!;
        const prices = pricesAt(current.version.def, d.core.clock.nowMs(), d.core.site.timezone);
        return { tariff: d.tariffs.view(current), rule: best.rule, currency: current.version.def.currency, prices, text: priceText(current.version.def, prices) };
      },
    },
    {
      method: 'GET', path: '/tariffs/assignments', roles: STAFF,
      summary: 'Which tariff applies at each charger and connector now (for a driver with no group tariff), and the rule',
      handler: async () => {
        const candidates = await d.tariffs.candidates();
        const out = [];
        for (const c of await d.core.chargers.list()) {
          const connectors = c.connectors.filter((x) => x.connectorId > 0).map((x) => x.connectorId);
          for (const connectorId of connectors.length ? connectors : [null]) {
            const who: Who = { chargerId: c.id, connectorId, userId: null, groupKeys: [] };
            const best = resolveTariff(candidates, who);
            // Group tariffs that win here for their members.
            const groups = candidates.filter((t) => {
              if (t.def.userIds.length === 0 && t.def.groupIdTags.length === 0) return false;
              const member: Who = { ...who, userId: t.def.userIds[0] ?? null, groupKeys: t.def.groupIdTags.map((g) => g.toLowerCase()) };
              return resolveTariff(candidates, member)?.tariff.id === t.id && matchRule(t, member) !== 'default';
            }).map((t) => ({ id: t.id, name: t.def.name, userIds: t.def.userIds, groupIdTags: t.def.groupIdTags }));
            out.push({ chargerId: c.id, connectorId, tariffId: best?.tariff.id ?? null, tariffName: best?.tariff.def.name ?? null, rule: best?.rule ?? null, groupTariffs: groups });
          }
        }
        return { rule: RULE_TEXT, order: RULES, assignments: out };
      },
    },
    {
      method: 'GET', path: '/tariffs/{id}', roles: [...ROLES], summary: 'One tariff (current version)',
      params: IdParams,
      handler: async ({ params }) => d.tariffs.view(await found(params.id)),
    },
    {
      method: 'GET', path: '/tariffs/{id}/versions', roles: STAFF, summary: 'Every version of a tariff, oldest first',
      params: IdParams,
      handler: async ({ params }) => {
        const t = await found(params.id);
        return (await d.tariffs.versions(t.id)).map((v) => ({ versionId: v.id, version: v.version, createdAt: v.createdAt, createdBy: v.createdBy, ...v.def }));
      },
    },
    {
      method: 'PATCH', path: '/tariffs/{id}', roles: [], summary: 'Edit a tariff: writes a new version; running and past sessions keep theirs',
      params: IdParams, body: TariffPatchBody,
      handler: async ({ params, payload, principal }) => {
        const body = payload as TariffInput;
        const current = await found(params.id);
        if (body.isDefault === false && current.isDefault) {
          throw ApiError.badRequest([{ field: 'isDefault', message: 'the site needs a default tariff: make another tariff the default instead' }]);
        }
        const { def, errors } = await buildDef(body, current.version.def, input);
        if (!def) throw ApiError.badRequest(errors);
        await d.tariffs.update(current.id, def, body.isDefault, (principal as Principal).username);
        const updated = (await d.tariffs.get(current.id))!;
        await d.core.audit.record((principal as Principal).username, 'tariff.update', `tariff:${current.id}`, { version: updated.version.version, fields: Object.keys(body) });
        return d.tariffs.view(updated);
      },
    },
    {
      method: 'DELETE', path: '/tariffs/{id}', roles: [], summary: 'Delete a tariff (its versions stay for past sessions)',
      params: IdParams,
      handler: async ({ params, principal }, h) => {
        await d.tariffs.remove(params.id);
        await d.core.audit.record((principal as Principal).username, 'tariff.delete', `tariff:${params.id}`);
        return h.response().code(204);
      },
    },
  ];
}
