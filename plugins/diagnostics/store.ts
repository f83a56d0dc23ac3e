import type { Knex } from 'knex';
import type { Finding, Severity } from '../../core/events.js';
import type { Clock } from '../../core/clock.js';
import { countRows, type Page } from '../../core/http/paging.js';
import type { ActiveFinding, FindingKey, RaiseInput } from './check.js';

/** A row of diagnostics_findings. */
interface FindingRow {
  id: number;
  check: string;
  charger_id: string | null;
  connector_id: number | null;
  sub_key: string;
  severity: Severity;
  problem: string;
  cause: string;
  action: string;
  message: string;
  state: 'active' | 'cleared';
  since: string;
  cleared_at: string | null;
  updated_at: string;
  occurrences: number;
  /** JSON object. */
  detail: string | null;
}

/** A finding as the API shows it: the spec's fields plus the parts of the message and the counters. */
/** Which findings a list shows. */
export interface FindingFilter { chargerId?: string; state?: 'active' | 'cleared'; check?: string }

export interface FindingView extends Finding {
  /** What is wrong, without the cause. */
  problem: string;
  cause: string;
  action: string;
  subKey: string;
  /** Last time the condition was seen again or reworded. */
  updatedAt: string;
  /** How many times the condition was reported while active. */
  occurrences: number;
  detail: Record<string, unknown>;
}

interface Active extends ActiveFinding {
  problem: string;
  cause: string;
  action: string;
  occurrences: number;
  /** Wall time of the last write, to throttle writes of repeats. */
  writtenMs: number;
}

export type EmitFinding = (event: 'finding.raised' | 'finding.cleared' | 'finding.updated', f: Finding) => void;

// Repeats of an unchanged condition only bump the counter; it is written at most this often.
const REPEAT_WRITE_MS = 60_000;

const keyOf = (check: string, k: FindingKey) => `${check}|${k.chargerId ?? ''}|${k.connectorId ?? ''}|${k.subKey ?? ''}`;

export function composeMessage(problem: string, cause: string): string {
  return cause ? `${problem} Likely cause: ${cause}` : problem;
}

export function findingView(r: FindingRow): FindingView {
  return {
    id: r.id, check: r.check, chargerId: r.charger_id ?? null,
    connectorId: r.connector_id === null || r.connector_id === undefined ? null : Number(r.connector_id),
    severity: r.severity, message: r.message, problem: r.problem,
    cause: r.cause ?? '', action: r.action ?? '', subKey: r.sub_key ?? '',
    state: r.state, since: r.since, clearedAt: r.cleared_at ?? null,
    updatedAt: r.updated_at, occurrences: Number(r.occurrences ?? 1),
    detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : {},
  };
}

/**
 * The findings: one active row per condition (check + charger + connector +
 * sub-key), kept in memory for quick "is it already raised?" answers and in
 * diagnostics_findings for history and restarts. Writes run one at a time so
 * a raise and a clear of the same condition cannot overtake each other.
 */
export class FindingStore {
  #db: Knex;
  #clock: Clock;
  #emit: EmitFinding;
  #active = new Map<string, Active>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(db: Knex, clock: Clock, emit: EmitFinding) {
    this.#db = db;
    this.#clock = clock;
    this.#emit = emit;
  }

  async load(): Promise<void> {
    this.#active.clear();
    const rows = await this.#db<FindingRow>('diagnostics_findings').where({ state: 'active' });
    for (const r of rows) {
      const v = findingView(r);
      this.#active.set(keyOf(v.check, v), {
        id: v.id, check: v.check, chargerId: v.chargerId, connectorId: v.connectorId, subKey: v.subKey,
        severity: v.severity, since: v.since, detail: v.detail, problem: v.problem, cause: v.cause, action: v.action,
        occurrences: v.occurrences, writtenMs: Date.now(),
      });
    }
  }

  active(check?: string): ActiveFinding[] {
    return [...this.#active.values()].filter((f) => !check || f.check === check);
  }

  #pending = 0;

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    this.#pending += 1;
    const run = this.#queue.then(fn).finally(() => { this.#pending -= 1; });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  raise(check: string, input: RaiseInput): Promise<void> {
    return this.#serial(async () => {
      const key = keyOf(check, input);
      const now = this.#clock.iso();
      const message = composeMessage(input.problem, input.cause);
      const cur = this.#active.get(key);
      if (cur) {
        cur.occurrences += 1;
        const changed = cur.severity !== input.severity || cur.problem !== input.problem || cur.cause !== input.cause || cur.action !== input.action;
        if (!changed && Date.now() - cur.writtenMs < REPEAT_WRITE_MS) return;
        Object.assign(cur, { severity: input.severity, problem: input.problem, cause: input.cause, action: input.action, detail: input.detail ?? cur.detail, writtenMs: Date.now() });
        await this.#db<FindingRow>('diagnostics_findings').where({ id: cur.id }).update({
          severity: input.severity, problem: input.problem, cause: input.cause, action: input.action, message,
          detail: JSON.stringify(cur.detail), updated_at: now, occurrences: cur.occurrences,
        });
        if (changed) this.#emit('finding.updated', await this.#view(cur.id));
        return;
      }
      const since = input.since ?? now;
      const detail = input.detail ?? {};
      const [row] = await this.#db('diagnostics_findings').insert({
        check, charger_id: input.chargerId, connector_id: input.connectorId ?? null, sub_key: input.subKey ?? '',
        severity: input.severity, problem: input.problem, cause: input.cause, action: input.action, message,
        state: 'active', since, cleared_at: null, updated_at: now, occurrences: 1, detail: JSON.stringify(detail),
      }).returning('id');
      const id = typeof row === 'object' ? (row as { id: number }).id : (row as number);
      this.#active.set(key, {
        id, check, chargerId: input.chargerId, connectorId: input.connectorId ?? null, subKey: input.subKey ?? '',
        severity: input.severity, since, detail, problem: input.problem, cause: input.cause, action: input.action,
        occurrences: 1, writtenMs: Date.now(),
      });
      this.#emit('finding.raised', await this.#view(id));
    });
  }

  // Clears are asked on every meter value and message: with nothing active and no write in flight, answer at once.
  #nothingTo(match: (k: string, f: ActiveFinding) => boolean): boolean {
    return this.#pending === 0 && ![...this.#active.entries()].some(([k, f]) => match(k, f));
  }

  clear(check: string, key: FindingKey): Promise<void> {
    const k = keyOf(check, key);
    if (this.#pending === 0 && !this.#active.has(k)) return Promise.resolve();
    return this.#serial(() => this.#clearKey(k));
  }

  clearWhere(check: string | null, match: (f: ActiveFinding) => boolean): Promise<void> {
    const matches = (f: ActiveFinding) => (check === null || f.check === check) && match(f);
    if (this.#nothingTo((_k, f) => matches(f))) return Promise.resolve();
    // Matched inside the queue, so a raise still being written is seen.
    return this.#serial(async () => {
      const keys = [...this.#active.entries()].filter(([, f]) => matches(f)).map(([k]) => k);
      for (const k of keys) await this.#clearKey(k);
    });
  }

  async #clearKey(k: string): Promise<void> {
    const cur = this.#active.get(k);
    if (!cur) return;
    const now = this.#clock.iso();
    await this.#db<FindingRow>('diagnostics_findings').where({ id: cur.id }).update({ state: 'cleared', cleared_at: now, updated_at: now, occurrences: cur.occurrences });
    this.#active.delete(k);
    this.#emit('finding.cleared', await this.#view(cur.id));
  }

  /** Waits for pending writes (tests, stop). */
  async idle(): Promise<void> {
    await this.#queue;
  }

  async #view(id: number): Promise<FindingView> {
    // Called right after the write of this id.
    return findingView((await this.#db<FindingRow>('diagnostics_findings').where({ id }).first())!);
  }

  /** One page of findings, active first, then newest first, and how many match in all. */
  async list(filter: FindingFilter & Page): Promise<{ rows: FindingView[]; total: number }> {
    const q = this.#db<FindingRow>('diagnostics_findings');
    if (filter.chargerId) q.where({ charger_id: filter.chargerId });
    if (filter.state) q.where({ state: filter.state });
    if (filter.check) q.where({ check: filter.check });
    const [rows, total] = await Promise.all([
      q.clone().orderByRaw("case when state = 'active' then 0 else 1 end")
        .orderBy('since', 'desc').orderBy('id', 'desc').limit(filter.limit).offset(filter.offset),
      countRows(q),
    ]);
    return { rows: rows.map((r) => this.#live(findingView(r))), total };
  }

  // Repeats are counted in memory and written at most once a minute; show the live count.
  #live(v: FindingView): FindingView {
    if (v.state !== 'active') return v;
    const cur = this.#active.get(keyOf(v.check, v));
    return cur && cur.id === v.id ? { ...v, occurrences: cur.occurrences } : v;
  }

  async get(id: number): Promise<FindingView | null> {
    const r = await this.#db<FindingRow>('diagnostics_findings').where({ id }).first();
    return r ? this.#live(findingView(r)) : null;
  }
}
