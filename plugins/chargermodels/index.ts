import { Type } from '@sinclair/typebox';
import { ApiError } from '../../core/errors.js';
import { definePlugin } from '../../core/plugin.js';
import { Duration, Strict, type ConfigProblem } from '../../core/schema.js';
import { STAFF } from '../../core/types.js';
import { Applier, NotApplicable } from './apply.js';
import { MODELS_DIR, bugsFor, isSecurityKey, loadCatalogue, type ChargerIdentity, type LoadedEntry } from './catalogue.js';
import { chargerView } from './view.js';

/** A booted charger answers its BootNotification first; calls sent in the same instant may reach it before that. */
const SETTLE_MS = 300;

const ConfigSchema = Strict({
  dir: Type.Optional(Type.String({
    minLength: 1,
    description: 'A folder of the site\'s own catalogue files (same format as plugins/chargermodels/models/), read after the shipped ones; an entry with a shipped entry\'s id replaces it.',
  })),
  applyOnAdoption: Type.Boolean({ default: true, description: 'Send an entry\'s configuration when a charger of its model is adopted (false: only when an installer asks).' }),
  commandTimeout: Duration({ default: '30s', description: 'How long a charger has to answer each ChangeConfiguration.' }),
});

const dirsOf = (c: { dir?: string }) => [MODELS_DIR, ...(c.dir ? [c.dir] : [])];

const ChargerParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 48 }) });

const STATUS_OF: Record<NotApplicable['reason'], 404 | 409> = { unknown: 404, 'no-entry': 409, 'not-adopted': 409, offline: 409 };

export default definePlugin({
  manifest: {
    name: 'chargermodels',
    version: '1.0.0',
    summary: 'Known settings, unit fixes and firmware bugs per charger model, from a catalogue of YAML files; sent when a charger is adopted',
    // Diagnostics first: the known bugs announced at start become its findings.
    wants: ['diagnostics'],
    config: ConfigSchema,
    validate(config): ConfigProblem[] {
      // Each bad file is a problem of its own, named by file and key: the shipped ones under catalogue, the site's under dir.
      const of = (dir: string, path: string) => loadCatalogue([dir]).errors
        .flatMap((err) => err.problems.map((p) => ({ path, message: `${err.file}: ${p.path}: ${p.message}` })));
      return [...of(MODELS_DIR, 'catalogue'), ...(config.dir ? of(config.dir, 'dir') : [])];
    },
  },
  migrations: [
    {
      id: '001-applied',
      async up(db) {
        await db.schema.createTable('chargermodels_applied', (t) => {
          t.string('charger_id').notNullable();
          t.string('key').notNullable();
          t.text('value').notNullable();
          t.string('entry_id').notNullable();
          t.string('revision').notNullable();
          t.string('status').notNullable();
          t.text('detail');
          t.string('applied_at').notNullable();
          t.string('applied_by').notNullable();
          t.primary(['charger_id', 'key']);
        });
      },
    },
  ],
  register(ctx) {
    let entries = new Map<string, LoadedEntry>();
    const timers = new Set<NodeJS.Timeout>();
    const applier = new Applier({
      db: ctx.db, core: ctx.core, log: ctx.log, entries: () => entries.values(), timeoutMs: ctx.config.commandTimeout,
    });
    /** Unit fixes for the core and known bugs for diagnostics, from what the charger last said it is. */
    const identify = (chargerId: string, c: ChargerIdentity) => {
      applier.hintUnits(chargerId, c);
      const entry = applier.match(c);
      const bugs = entry ? bugsFor(entry, c.firmwareVersion) : [];
      ctx.emit('chargermodels.bugs', {
        chargerId, at: ctx.core.clock.iso(), entry: entry?.id ?? null, firmwareVersion: c.firmwareVersion,
        bugs: bugs.map((b) => ({ summary: b.summary, advice: b.advice, link: b.link ?? null })),
      });
    };
    const later = (chargerId: string) => {
      if (!ctx.config.applyOnAdoption) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        applier.quietly(chargerId).catch((err: unknown) => ctx.log.error(`applying the catalogue to ${chargerId} failed: ${String(err)}`));
      }, SETTLE_MS);
      timers.add(timer);
    };

    // Adoption: an approved charger's boot (accept mode, after an approval, or its next boot when it was offline then).
    ctx.on('charger.booted', (e) => {
      identify(e.chargerId, e);
      if (e.status === 'Accepted') later(e.chargerId);
    });
    ctx.on('charger.approved', (e) => {
      if (ctx.core.chargers.isOnline(e.chargerId)) later(e.chargerId);
    });
    // After an appliance restart chargers reconnect without booting; one adopted before the catalogue knew it gets it now.
    ctx.on('charger.connected', async (e) => {
      const c = await applier.identity(e.chargerId);
      if (!c || c.vendor === null) return;
      // Known bugs wait for its boot: a charger back from a firmware update still has the old version on record.
      applier.hintUnits(e.chargerId, c);
      if (c.approved) later(e.chargerId);
    });
    ctx.on('charger.deleted', async (e) => {
      ctx.core.sampledUnits.set(e.chargerId, null);
      // Adopted again later, it is a new charger to the catalogue.
      await ctx.db('chargermodels_applied').where({ charger_id: e.chargerId }).delete();
    });

    ctx.route({
      method: 'GET', path: '/chargermodels', roles: STAFF,
      summary: 'The charger model catalogue: per entry its vendor/model/firmware matchers, the configuration sent at adoption, unit fixes and known firmware bugs',
      handler: () => [...entries.values()],
    });
    ctx.route({
      method: 'GET', path: '/chargermodels/chargers', roles: STAFF,
      summary: 'Every charger with the catalogue entry it matches (or null), how many of its keys the charger answered and how many known bugs its firmware has',
      handler: async () => {
        const rows = await ctx.db('chargermodels_applied').select('charger_id', 'key', 'value', 'status') as Array<{ charger_id: string; key: string; value: string; status: string }>;
        const answers = new Map<string, Map<string, { value: string; status: string }>>();
        for (const r of rows) {
          const of = answers.get(r.charger_id) ?? new Map<string, { value: string; status: string }>();
          of.set(r.key, r);
          answers.set(r.charger_id, of);
        }
        return (await ctx.core.chargers.list()).map((c) => {
          const entry = applier.match(c);
          const keys = entry?.adopt?.configuration ?? [];
          // Answered: the charger said something to this very value (not skipped, not a failed send).
          const answered = keys.filter((k) => {
            const a = answers.get(c.id)?.get(k.key);
            return a && a.value === k.value && a.status !== 'Skipped' && a.status !== 'Failed';
          });
          return {
            chargerId: c.id, vendor: c.vendor, model: c.model, firmwareVersion: c.firmwareVersion,
            entry: entry?.id ?? null, keys: keys.length, answered: answered.length,
            knownBugs: entry ? bugsFor(entry, c.firmwareVersion).length : 0,
          };
        });
      },
    });
    ctx.route({
      method: 'GET', path: '/chargermodels/chargers/{id}', roles: STAFF,
      summary: 'Which catalogue entry a charger matches, each key with what it answered, its unit fixes and the known bugs of its firmware',
      params: ChargerParam,
      handler: async ({ params }) => {
        const c = await applier.identity(params.id);
        if (!c) throw new ApiError(404, `charger ${params.id} is not known`);
        return chargerView(params.id, c, applier.match(c), await applier.applied(params.id));
      },
    });
    ctx.route({
      method: 'POST', path: '/chargermodels/chargers/{id}/apply', roles: ['installer'],
      summary: 'Sends the charger\'s catalogue configuration again, every key, and answers what it said to each',
      params: ChargerParam,
      handler: async ({ params, principal }) => {
        try {
          await ctx.core.audit.record(principal!.username, 'chargermodels.apply', params.id);
          const results = await applier.ensure(params.id, { force: true, by: principal!.username });
          const c = await applier.identity(params.id);
          return { chargerId: params.id, entry: c ? applier.match(c)?.id ?? null : null, results };
        } catch (err) {
          if (err instanceof NotApplicable) throw new ApiError(STATUS_OF[err.reason], err.message);
          throw err;
        }
      },
    });

    ctx.page({ path: 'chargermodels', title: 'Charger models', component: 'ChargerModelsPage', roles: STAFF, icon: '⚙' });

    return {
      async start() {
        entries = loadCatalogue(dirsOf(ctx.config)).entries;
        const flagged = [...entries.values()].flatMap((e) => (e.adopt?.configuration ?? []).filter((i) => isSecurityKey(i.key)).map((i) => `${e.id}: ${i.key}`));
        if (flagged.length) ctx.log.warn(`catalogue entries change security keys (sent only where flagged security: true): ${flagged.join(', ')}`);
        for (const c of await ctx.core.chargers.list()) {
          if (c.vendor === null) continue;
          identify(c.id, c);
          if (c.approved && c.online) later(c.id);
        }
      },
      async stop() {
        applier.stop();
        for (const t of timers) clearTimeout(t);
        timers.clear();
      },
    };
  },
});
