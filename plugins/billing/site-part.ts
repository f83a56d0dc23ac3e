import { Value } from '@sinclair/typebox/value';
import type { SitePart } from '../../core/plugin.js';
import type { CoreServices } from '../../core/services.js';
import { buildDef, TariffCreateBody, type InputContext, type TariffInput } from './tariff-input.js';
import type { Tariffs } from './tariffs.js';

/**
 * Tariffs in the site export: as the API takes them, with the people they are
 * for by username (ids differ between sites). Charger ids are kept as they
 * are: a tariff may name a charger before it first connects.
 */
export function tariffsSitePart(d: { tariffs: Tariffs; core: CoreServices; currency: string; vatPct: number }): SitePart {
  return {
    key: 'tariffs',
    async export() {
      const names = new Map((await d.core.accounts.list()).map((a) => [a.id, a.username]));
      return (await d.tariffs.list()).map(({ id: _id, version: _v, versionId: _vid, createdAt: _c, updatedAt: _u, userIds, ...rest }) => ({
        ...rest, usernames: userIds.map((id) => names.get(id)).filter((n): n is string => n !== undefined),
      }));
    },
    async import(items, actor) {
      const result = { added: 0, skipped: 0, problems: [] as string[] };
      const existing = new Set((await d.tariffs.list()).map((t) => t.name.toLowerCase()));
      const input: InputContext = { currency: d.currency, vatPct: d.vatPct, chargerExists: async () => true, userExists: async () => true };
      const isDefault = (x: unknown) => !!x && typeof x === 'object' && (x as { isDefault?: unknown }).isDefault === true;
      const ordered = [...items.filter(isDefault), ...items.filter((x) => !isDefault(x))];
      for (const [i, item] of ordered.entries()) {
        const { usernames, ...body } = (item && typeof item === 'object' ? item : {}) as { usernames?: unknown } & Record<string, unknown>;
        const label = typeof body.name === 'string' ? `tariff "${body.name.slice(0, 100)}"` : `tariffs[${i}]`;
        if (!Value.Check(TariffCreateBody, body)) {
          const first = [...Value.Errors(TariffCreateBody, body)][0];
          result.skipped += 1;
          result.problems.push(`${label}: ${first ? `${first.path.replace(/^\//, '') || 'entry'} ${first.message}` : 'not a tariff'}`);
          continue;
        }
        if (existing.has(body.name.toLowerCase())) {
          result.skipped += 1;
          continue;
        }
        const userIds: number[] = [];
        for (const name of Array.isArray(usernames) ? usernames.slice(0, 5000) : []) {
          const account = typeof name === 'string' ? await d.core.accounts.findByUsername(name) : null;
          if (account) userIds.push(account.id);
          else result.problems.push(`${label}: no user named "${String(name).slice(0, 64)}" here; left out`);
        }
        const { def, errors } = await buildDef({ ...(body as TariffInput), userIds }, null, input);
        if (!def) {
          result.skipped += 1;
          result.problems.push(`${label}: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`);
          continue;
        }
        // The importing site's default stays; where it has none, the exported default (it comes first) becomes it.
        const id = await d.tariffs.create(def, !(await d.tariffs.hasDefault()), actor);
        await d.core.audit.record(actor, 'tariff.create', `tariff:${id}`, { name: def.name, imported: true });
        existing.add(def.name.toLowerCase());
        result.added += 1;
      }
      return result;
    },
  };
}
