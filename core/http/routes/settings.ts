import { Type } from '@sinclair/typebox';
import { ApiError } from '../../errors.js';
import { lineDiff } from '../../site-config/diff.js';
import type { SiteSettings } from '../../site-config/service.js';
import { exportSite, importSite, type TransferDeps } from '../../site-config/transfer.js';
import { maskedText } from '../../site-config/yaml-edit.js';
import type { RouteSpec } from '../../types.js';

export interface SettingsRouteDeps {
  settings: SiteSettings;
  transfer: TransferDeps;
  /** Restarts the appliance in place; absent when this process cannot restart itself. */
  restart?: () => void;
}

const Section = Type.Object({ section: Type.String({ minLength: 1, maxLength: 80, pattern: '^[A-Za-z0-9._-]+$' }) });
const VersionId = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const BaseVersion = Type.Optional(Type.Integer({ minimum: 1, description: 'The version the change was made on; a newer one on disk answers 409.' }));

// A site file is a few levels deep and a few hundred keys; a value far past that is refused before it is walked.
const MAX_DEPTH = 24;
const MAX_NODES = 20_000;

/** Refuses a value nested too deep or too large, naming the field. */
function bounded(value: unknown, field = 'value'): unknown {
  let nodes = 0;
  const walk = (v: unknown, depth: number): void => {
    nodes += 1;
    if (nodes > MAX_NODES) throw ApiError.badRequest([{ field, message: `expected at most ${MAX_NODES} values in one section` }]);
    if (depth > MAX_DEPTH) throw ApiError.badRequest([{ field, message: `expected at most ${MAX_DEPTH} levels of nesting` }]);
    if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x, depth + 1);
  };
  walk(value, 0);
  return value;
}

/** The installer's console: the site config's sections as forms, their check, apply, history and rollback. */
export function settingsRoutes(d: SettingsRouteDeps): RouteSpec[] {
  const { settings } = d;
  return [
    {
      method: 'GET', path: '/settings', roles: ['installer'],
      summary: 'The site config by section (core, plugins, adapters), schema and values, secrets masked',
      handler: async () => {
        const current = await settings.sync();
        return {
          version: current.id, restartPending: settings.restartPending(), canRestart: !!d.restart, writable: settings.writable(),
          sections: settings.sections(),
        };
      },
    },
    {
      method: 'POST', path: '/settings/check', roles: ['installer'],
      summary: 'Checks a section as startup would and shows the change to the file; nothing is written',
      body: Type.Object({ section: Section.properties.section, value: Type.Unknown({ description: 'The new section; null removes it (disables a plugin).' }) }),
      handler: ({ payload }) => settings.check(payload.section, bounded(payload.value ?? null)),
    },
    {
      method: 'PUT', path: '/settings/sections/{section}', roles: ['installer'],
      summary: 'Writes a section to the site file, keeps the version, and applies it (plugins at once, core at the next restart)',
      params: Section,
      body: Type.Object({ value: Type.Unknown({ description: 'The new section; null removes it (disables a plugin).' }), baseVersion: BaseVersion }),
      handler: ({ params, payload, principal }) => settings.apply(params.section, bounded(payload.value ?? null), principal!.username, payload.baseVersion),
    },
    {
      method: 'GET', path: '/settings/versions', roles: ['installer'], summary: 'Applied versions of the site config, newest first',
      handler: async () => {
        await settings.sync();
        return settings.versions();
      },
    },
    {
      method: 'GET', path: '/settings/versions/{id}', roles: ['installer'], summary: 'One version and what it changed, secrets masked',
      params: VersionId,
      handler: async ({ params }) => {
        const found = await settings.version(params.id);
        if (!found) throw ApiError.notFound(`config version ${params.id}`);
        const { text, previous, ...version } = found;
        return { ...version, diff: lineDiff(maskedText(previous ?? ''), maskedText(text)) };
      },
    },
    {
      method: 'POST', path: '/settings/versions/{id}/rollback', roles: ['installer'],
      summary: 'Makes an earlier version the site config again (as a new version)',
      params: VersionId,
      handler: ({ params, principal }) => settings.rollback(params.id, principal!.username),
    },
    {
      method: 'GET', path: '/settings/export', roles: ['installer'],
      summary: 'The site as one file (config with secrets masked, accounts without passwords, tariffs) to set up the next site like this one',
      handler: async ({ principal }, h) => {
        const file = await exportSite(d.transfer);
        await d.transfer.audit(principal!.username, 'settings.exported', { accounts: file.accounts.length });
        const name = `chargekeeper-site-${file.site.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 40)}-${file.exportedAt.slice(0, 10)}.json`;
        return h.response(file).header('content-disposition', `attachment; filename="${name}"`);
      },
    },
    {
      method: 'POST', path: '/settings/import', roles: ['installer'],
      summary: 'Takes another site\'s export: config sections that check clean (not http and storage), accounts and tariffs this site lacks; nothing is overwritten',
      // The file is checked against its own schema in importSite, with the field named.
      body: Type.Unknown(),
      handler: async ({ payload, principal }) => {
        const report = await importSite(d.transfer, bounded(payload, 'body'), principal!.username);
        await d.transfer.audit(principal!.username, 'settings.imported', {
          sections: report.config.imported, accounts: report.accounts.added,
          parts: Object.fromEntries(Object.entries(report.parts).map(([k, r]) => [k, r.added])),
        });
        return report;
      },
    },
    {
      method: 'POST', path: '/settings/restart', roles: ['installer'],
      summary: 'Restarts the appliance so that core settings take effect; chargers reconnect by themselves',
      handler: ({ principal }, h) => {
        if (!d.restart) throw ApiError.conflict('this process cannot restart itself; restart the service (systemctl restart chargekeeper)');
        const restart = d.restart;
        void settings.restarting(principal!.username).then(() => setTimeout(restart, 200));
        return h.response({ restarting: true }).code(202);
      },
    },
  ];
}
