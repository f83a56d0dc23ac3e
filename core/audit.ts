import type { Knex } from 'knex';
import type { Clock } from './clock.js';

/** One line of the audit log: who did what to what. Never updated or deleted. */
export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  target: string | null;
  detail: unknown;
}

export class AuditLog {
  #db: Knex;
  #clock: Clock;

  constructor(db: Knex, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  async record(actor: string, action: string, target: string | null, detail?: unknown): Promise<void> {
    await this.#db('audit').insert({
      at: this.#clock.iso(), actor, action, target,
      detail: detail === undefined ? null : JSON.stringify(detail),
    });
  }

  async list(filter: { actor?: string; action?: string; target?: string; limit?: number; before?: string }): Promise<AuditEntry[]> {
    const q = this.#db('audit').orderBy('id', 'desc').limit(filter.limit ?? 500);
    if (filter.actor) q.where({ actor: filter.actor });
    if (filter.action) q.where('action', 'like', `${filter.action}%`);
    if (filter.target) q.where({ target: filter.target });
    if (filter.before) q.where('at', '<', filter.before);
    const rows = await q;
    return rows.map((r: Record<string, unknown>) => ({
      at: r.at as string, actor: r.actor as string, action: r.action as string, target: (r.target as string) ?? null,
      detail: r.detail ? JSON.parse(r.detail as string) : null,
    }));
  }
}
