import type { Knex } from 'knex';
import { sendErrorOf } from '../../core/ocpp/send-error.js';
import type { UnitHint } from '../../core/ocpp/sampled-units.js';
import type { CoreServices } from '../../core/services.js';
import type { Logger } from '../../core/types.js';
import { errorMessage } from '../../core/errors.js';
import { isSecurityKey, matchEntry, type ChargerIdentity, type ConfigurationItem, type LoadedEntry } from './catalogue.js';

/** The audit actor of everything the catalogue sends. */
export const ACTOR = 'chargermodels';

/**
 * What became of one configuration key: the charger's answer (Accepted, RebootRequired, Rejected, NotSupported;
 * an unknown component or variable is Rejected with the charger's words), CallError (it answered with a CALLERROR),
 * Skipped (a security key the entry does not flag; never sent) or Failed (offline or no answer in time; sent again when it is back).
 */
export type ApplyStatus = 'Accepted' | 'RebootRequired' | 'Rejected' | 'NotSupported' | 'CallError' | 'Skipped' | 'Failed';

/** One row of chargermodels_applied, as the API shows it. */
export interface AppliedKey {
  key: string;
  value: string;
  entry: string;
  revision: string;
  status: ApplyStatus;
  /** Why it was skipped, or the error. */
  detail: string | null;
  at: string;
  /** chargermodels, or the username that asked for it again. */
  by: string;
}

interface AppliedRow {
  charger_id: string; key: string; value: string; entry_id: string; revision: string;
  status: ApplyStatus; detail: string | null; applied_at: string; applied_by: string;
}

const toApplied = (r: AppliedRow): AppliedKey => ({
  key: r.key, value: r.value, entry: r.entry_id, revision: r.revision, status: r.status, detail: r.detail ?? null,
  at: r.applied_at, by: r.applied_by,
});

const ANSWERS = new Set(['Accepted', 'RebootRequired', 'Rejected', 'NotSupported']);
const REFUSALS = new Set(['UnknownComponent', 'UnknownVariable', 'NotSupportedAttributeType']);

export interface ApplierDeps {
  db: Knex;
  core: CoreServices;
  log: Logger;
  entries: () => Iterable<LoadedEntry>;
  timeoutMs: number;
}

/** Why nothing was sent: no match, not adopted, or offline. */
export class NotApplicable extends Error {
  constructor(readonly reason: 'unknown' | 'no-entry' | 'not-adopted' | 'offline', message: string) {
    super(message);
  }
}

/**
 * Sends a catalogue entry's configuration to a charger once: a key already answered with the same
 * value is not sent again (unless forced); one whose send failed is sent at the next chance.
 * One run per charger at a time; a second request while one runs waits for it.
 */
export class Applier {
  readonly #d: ApplierDeps;
  readonly #running = new Map<string, Promise<AppliedKey[]>>();
  #stopped = false;

  constructor(d: ApplierDeps) {
    this.#d = d;
  }

  stop(): void {
    this.#stopped = true;
  }

  /** The charger's identity as last booted, or null when unknown. */
  async identity(chargerId: string): Promise<(ChargerIdentity & { approved: boolean; online: boolean }) | null> {
    const c = await this.#d.core.chargers.get(chargerId);
    return c ? { vendor: c.vendor, model: c.model, firmwareVersion: c.firmwareVersion, approved: c.approved, online: c.online } : null;
  }

  match(c: ChargerIdentity): LoadedEntry | null {
    return matchEntry(this.#d.entries(), c);
  }

  /** Sets (or clears) the core's unit hints for this charger from its matching entry. */
  hintUnits(chargerId: string, c: ChargerIdentity): void {
    const entry = this.match(c);
    const hints = new Map<string, UnitHint>((entry?.units ?? []).map((u) => [u.measurand, { unit: u.unit, replace: u.when === 'always' }]));
    this.#d.core.sampledUnits.set(chargerId, hints);
  }

  async applied(chargerId: string): Promise<AppliedKey[]> {
    const rows = await this.#d.db<AppliedRow>('chargermodels_applied').where({ charger_id: chargerId }).orderBy('key');
    return rows.map(toApplied);
  }

  /**
   * Sends what the charger has not had yet (everything when forced). Resolves with what was sent
   * in this run; throws NotApplicable when nothing can be.
   */
  ensure(chargerId: string, opts: { force?: boolean; by?: string } = {}): Promise<AppliedKey[]> {
    const running = this.#running.get(chargerId);
    if (running && !opts.force) return running;
    const run = (running ?? Promise.resolve()).catch(() => undefined).then(() => this.#run(chargerId, opts.force ?? false, opts.by ?? ACTOR));
    const tracked = run.finally(() => {
      if (this.#running.get(chargerId) === tracked) this.#running.delete(chargerId);
    });
    this.#running.set(chargerId, tracked);
    return tracked;
  }

  /** ensure() for automatic triggers: nothing to do is not an error there. */
  async quietly(chargerId: string): Promise<void> {
    try {
      await this.ensure(chargerId);
    } catch (err) {
      if (!(err instanceof NotApplicable)) throw err;
    }
  }

  async #run(chargerId: string, force: boolean, by: string): Promise<AppliedKey[]> {
    const c = await this.identity(chargerId);
    if (!c) throw new NotApplicable('unknown', `charger ${chargerId} is not known`);
    const entry = this.match(c);
    if (!entry) throw new NotApplicable('no-entry', `no catalogue entry matches ${chargerId} (vendor ${JSON.stringify(c.vendor)}, model ${JSON.stringify(c.model)})`);
    if (!c.approved) throw new NotApplicable('not-adopted', `charger ${chargerId} is not approved yet`);
    if (!c.online) throw new NotApplicable('offline', `charger ${chargerId} is offline; it gets the configuration when it connects`);
    const items = entry.adopt?.configuration ?? [];
    const before = new Map((await this.applied(chargerId)).map((a) => [a.key, a]));
    const due = force ? items : items.filter((i) => !done(before.get(i.key), i));
    const results: AppliedKey[] = [];
    for (const item of due) {
      if (this.#stopped) break;
      const result = await this.#send(chargerId, entry, item, by);
      // Stopping: the database may be closing; an unrecorded key is simply sent again next time.
      if (this.#stopped) break;
      results.push(result);
      await this.#d.db('chargermodels_applied').insert(row(chargerId, result)).onConflict(['charger_id', 'key']).merge();
      // Offline now: the rest waits for its next connection.
      if (result.status === 'Failed' && !this.#d.core.chargers.isOnline(chargerId)) break;
    }
    if (results.length) {
      await this.#d.core.audit.record(ACTOR, 'chargermodels.applied', chargerId, {
        entry: entry.id, revision: entry.revision, ...(by !== ACTOR ? { requestedBy: by } : {}),
        results: results.map((r) => ({ key: r.key, value: r.value, status: r.status, ...(r.detail ? { detail: r.detail } : {}) })),
      });
      const counts = results.map((r) => `${r.key}=${r.status}`).join(', ');
      this.#d.log.info(`applied catalogue entry ${entry.id} to ${chargerId}: ${counts}`);
    }
    return results;
  }

  async #send(chargerId: string, entry: LoadedEntry, item: ConfigurationItem, by: string): Promise<AppliedKey> {
    const base = { key: item.key, value: item.value, entry: entry.id, revision: entry.revision, at: this.#d.core.clock.iso(), by };
    if (isSecurityKey(item.key) && !item.security) {
      return { ...base, status: 'Skipped', detail: `${item.key} is a security setting; the entry must say security: true to change it` };
    }
    try {
      const answer = await this.#d.core.chargers.commands.setConfiguration(chargerId, { key: item.key, value: item.value }, {
        actor: `plugin:${ACTOR}`, timeoutMs: this.#d.timeoutMs,
      });
      const at = this.#d.core.clock.iso();
      if (ANSWERS.has(answer.status)) return { ...base, at, status: answer.status as ApplyStatus, detail: answer.reason ?? null };
      // The charger knows no such component or variable, or not this attribute of it: a refusal, with its words.
      if (REFUSALS.has(answer.status)) return { ...base, at, status: 'Rejected', detail: `the charger answered ${answer.status}${answer.reason ? `: ${answer.reason}` : ''}` };
      return { ...base, at, status: 'CallError', detail: `unexpected answer ${answer.status.slice(0, 100)}` };
    } catch (err) {
      const e = sendErrorOf(err);
      // A key the charger's version cannot take is never sent: refused here, with the reason.
      if (e?.kind === 'invalid') return { ...base, at: this.#d.core.clock.iso(), status: 'Rejected', detail: `not sent: ${errorMessage(err)}` };
      // A CALLERROR is the charger's answer; no socket or no reply in time is tried again later.
      const status: ApplyStatus = e?.kind === 'callerror' ? 'CallError' : 'Failed';
      return { ...base, at: this.#d.core.clock.iso(), status, detail: errorMessage(err) };
    }
  }
}

/** Whether a key needs no sending: answered before with the same value (a skipped one counts until the entry flags it). */
function done(prev: AppliedKey | undefined, item: ConfigurationItem): boolean {
  if (!prev || prev.value !== item.value || prev.status === 'Failed') return false;
  return !(prev.status === 'Skipped' && item.security);
}

function row(chargerId: string, a: AppliedKey): AppliedRow {
  return {
    charger_id: chargerId, key: a.key, value: a.value, entry_id: a.entry, revision: a.revision,
    status: a.status, detail: a.detail, applied_at: a.at, applied_by: a.by,
  };
}
