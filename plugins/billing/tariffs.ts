import type { Knex } from 'knex';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { Candidate } from './assign.js';
import { tariffView, type TariffDef, type TariffView } from './tariff.js';

/** One stored version of a tariff. Versions never change once written. */
export interface TariffVersion {
  id: number;
  tariffId: number;
  version: number;
  def: TariffDef;
  createdAt: string;
  createdBy: string | null;
}

interface Current { id: number; isDefault: boolean; createdAt: string; deletedAt: string | null; version: TariffVersion }

interface VersionRow { id: number; tariff_id: number; version: number; body: string; created_at: string; created_by: string | null }

const toVersion = (r: VersionRow): TariffVersion => ({
  id: r.id, tariffId: r.tariff_id, version: r.version, def: JSON.parse(r.body) as TariffDef,
  createdAt: r.created_at, createdBy: r.created_by,
});

const idOf = (row: unknown): number => (typeof row === 'object' ? (row as { id: number }).id : (row as number));

/** Tariffs and their versions. The current tariffs are cached: pricing asks for them on every session. */
export class Tariffs {
  #db: Knex;
  #clock: Clock;
  #current: Current[] | null = null;
  // Bumped by every write, so a load that raced a write does not cache what it read before it.
  #generation = 0;
  #versions = new Map<number, TariffVersion>();

  constructor(db: Knex, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  async #load(): Promise<Current[]> {
    if (this.#current) return this.#current;
    const generation = this.#generation;
    const rows = await this.#db('billing_tariffs as t')
      .join('billing_tariff_versions as v', 'v.id', 't.current_version_id')
      .whereNull('t.deleted_at')
      .orderBy('t.id')
      .select('t.id as tid', 't.is_default', 't.created_at as tcreated', 't.deleted_at', 'v.*');
    const current = rows.map((r: VersionRow & { tid: number; is_default: number | boolean; tcreated: string; deleted_at: string | null }) => ({
      id: r.tid, isDefault: Boolean(r.is_default), createdAt: r.tcreated, deletedAt: r.deleted_at, version: toVersion(r),
    }));
    if (generation === this.#generation) this.#current = current;
    return current;
  }

  #changed(): void {
    this.#current = null;
    this.#generation++;
  }

  view(c: Current): TariffView {
    return tariffView(c.id, c.isDefault, c.version.def, { id: c.version.id, version: c.version.version, createdAt: c.version.createdAt, tariffCreatedAt: c.createdAt });
  }

  async list(): Promise<TariffView[]> {
    return (await this.#load()).map((c) => this.view(c));
  }

  /** The tariffs as pricing sees them. */
  async candidates(): Promise<Candidate[]> {
    return (await this.#load()).map((c) => ({ id: c.id, isDefault: c.isDefault, def: c.version.def }));
  }

  async get(id: number): Promise<Current | null> {
    return (await this.#load()).find((c) => c.id === id) ?? null;
  }

  async hasDefault(): Promise<boolean> {
    return (await this.#load()).some((c) => c.isDefault);
  }

  async version(versionId: number): Promise<TariffVersion | null> {
    const cached = this.#versions.get(versionId);
    if (cached) return cached;
    const row = await this.#db('billing_tariff_versions').where({ id: versionId }).first();
    if (!row) return null;
    const v = toVersion(row);
    this.#versions.set(versionId, v);
    return v;
  }

  /** The version in force at a moment: the last one written at or before it, or the first if the tariff is younger. */
  async versionAt(tariffId: number, atIso: string): Promise<TariffVersion | null> {
    const row = await this.#db('billing_tariff_versions').where({ tariff_id: tariffId }).where('created_at', '<=', atIso)
      .orderBy('version', 'desc').first()
      ?? await this.#db('billing_tariff_versions').where({ tariff_id: tariffId }).orderBy('version').first();
    return row ? toVersion(row) : null;
  }

  async versions(tariffId: number): Promise<TariffVersion[]> {
    return (await this.#db('billing_tariff_versions').where({ tariff_id: tariffId }).orderBy('version')).map(toVersion);
  }

  async create(def: TariffDef, isDefault: boolean, actor: string): Promise<number> {
    const now = this.#clock.iso();
    const id = await this.#db.transaction(async (trx) => {
      if (isDefault) await trx('billing_tariffs').update({ is_default: false });
      const tariffId = idOf((await trx('billing_tariffs').insert({ is_default: isDefault, created_at: now }).returning('id'))[0]);
      const versionId = idOf((await trx('billing_tariff_versions')
        .insert({ tariff_id: tariffId, version: 1, body: JSON.stringify(def), created_at: now, created_by: actor }).returning('id'))[0]);
      await trx('billing_tariffs').where({ id: tariffId }).update({ current_version_id: versionId });
      return tariffId;
    });
    this.#changed();
    return id;
  }

  /** Writes a new version; sessions that started under an older one keep it. */
  async update(id: number, def: TariffDef, isDefault: boolean | undefined, actor: string): Promise<void> {
    const now = this.#clock.iso();
    await this.#db.transaction(async (trx) => {
      const last = await trx('billing_tariff_versions').where({ tariff_id: id }).max('version as v').first();
      const versionId = idOf((await trx('billing_tariff_versions')
        .insert({ tariff_id: id, version: Number(last?.v ?? 0) + 1, body: JSON.stringify(def), created_at: now, created_by: actor }).returning('id'))[0]);
      if (isDefault) await trx('billing_tariffs').update({ is_default: false });
      await trx('billing_tariffs').where({ id }).update({ current_version_id: versionId, ...(isDefault !== undefined ? { is_default: isDefault } : {}) });
    });
    this.#changed();
  }

  /** Hides the tariff; its versions stay for the sessions priced with them. */
  async remove(id: number): Promise<void> {
    const current = await this.get(id);
    if (!current) throw ApiError.notFound(`tariff ${id}`);
    if (current.isDefault && (await this.#load()).length > 1) {
      throw ApiError.conflict(`tariff ${id} is the site default: make another tariff the default first`);
    }
    await this.#db('billing_tariffs').where({ id }).update({ deleted_at: this.#clock.iso(), is_default: false });
    this.#changed();
  }
}
