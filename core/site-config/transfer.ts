import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Accounts } from '../accounts.js';
import { ApiError } from '../errors.js';
import type { PluginHost } from '../host.js';
import type { SitePartResult } from '../plugin.js';
import { ROLES } from '../types.js';
import type { SiteSettings } from './service.js';

const MAX_ACCOUNTS = 5000;
const MAX_PART_ITEMS = 5000;

const AccountEntry = Type.Object({
  username: Type.String({ pattern: '^[A-Za-z0-9._@-]{1,64}$' }),
  name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
  email: Type.Optional(Type.Union([Type.String({ maxLength: 320 }), Type.Null()])),
  role: Type.Union(ROLES.map((r) => Type.Literal(r))),
});

/** One file to set up the next site like this one: its config, operators and drivers, and what plugins add (tariffs). */
export const SiteFileSchema = Type.Object({
  format: Type.Literal('chargekeeper-site'),
  version: Type.Literal(1),
  exportedAt: Type.String({ maxLength: 40 }),
  site: Type.String({ maxLength: 200 }),
  /** The site config as written, secrets masked. */
  config: Type.String({ maxLength: 512 * 1024 }),
  /** No passwords: each person sets one at the new site (an admin gives it). */
  accounts: Type.Array(AccountEntry, { maxItems: MAX_ACCOUNTS }),
  parts: Type.Record(Type.String({ maxLength: 40 }), Type.Array(Type.Unknown(), { maxItems: MAX_PART_ITEMS })),
});
export type SiteFile = Static<typeof SiteFileSchema>;

export interface ImportReport {
  config: { version: number | null; imported: string[]; skipped: Array<{ section: string; problems: string[] }>; secretsToSet: string[] };
  accounts: SitePartResult;
  parts: Record<string, SitePartResult>;
}

export interface TransferDeps {
  settings: SiteSettings;
  accounts: Accounts;
  host: PluginHost;
  siteName: string;
  now: () => string;
  audit(actor: string, action: string, detail: unknown): Promise<void>;
}

export async function exportSite(d: TransferDeps): Promise<SiteFile> {
  const parts: Record<string, unknown[]> = {};
  for (const { part } of d.host.siteParts()) parts[part.key] = (await part.export()).slice(0, MAX_PART_ITEMS);
  const accounts = (await d.accounts.list()).slice(0, MAX_ACCOUNTS).map((a) => ({ username: a.username, name: a.name, email: a.email, role: a.role }));
  return { format: 'chargekeeper-site', version: 1, exportedAt: d.now(), site: d.siteName, config: d.settings.exportText(), accounts, parts };
}

/** Takes another site's file: config sections that check clean, then accounts, then each plugin's part. Nothing is overwritten. */
export async function importSite(d: TransferDeps, body: unknown, actor: string): Promise<ImportReport> {
  if ((body as { format?: unknown } | null)?.format !== 'chargekeeper-site') {
    throw ApiError.badRequest([{ field: 'format', message: 'expected "chargekeeper-site": this is not a ChargeKeeper site export' }]);
  }
  if (!Value.Check(SiteFileSchema, body)) {
    const first = [...Value.Errors(SiteFileSchema, body)][0];
    const field = first?.path.replace(/^\//, '').replace(/\//g, '.') || 'body';
    throw ApiError.badRequest([{ field, message: first?.message ?? 'not a ChargeKeeper site export' }]);
  }
  const file = body;
  const config = await d.settings.importText(file.config, actor, `imported from the export of "${file.site}" (${file.exportedAt})`);

  const accounts: SitePartResult = { added: 0, skipped: 0, problems: [] };
  for (const a of file.accounts) {
    if (await d.accounts.findByUsername(a.username)) {
      accounts.skipped += 1;
      continue;
    }
    await d.accounts.create({ username: a.username, name: a.name ?? null, email: a.email ?? null, role: a.role });
    accounts.added += 1;
  }

  const parts: Record<string, SitePartResult> = {};
  const known = new Map(d.host.siteParts().map(({ part }) => [part.key, part]));
  for (const [key, items] of Object.entries(file.parts)) {
    const part = known.get(key);
    parts[key] = part
      ? await part.import(items, actor)
      : { added: 0, skipped: items.length, problems: [`${key}: no plugin here takes them (enable it and import again)`] };
  }
  return { config, accounts, parts };
}
