import type { Knex } from 'knex';
import type { EventMap } from '../../core/events.js';
import type { CoreServices } from '../../core/services.js';
import type { Transaction } from '../../core/transactions.js';
import { ACTIVE_POWER, ENERGY_REGISTER } from '../../core/readings.js';
import { resolveTariff, type Rule, type Who } from './assign.js';
import type { Reading } from './energy.js';
import { priceSession, type Breakdown, type SessionData } from './pricing.js';
import type { Tariffs, TariffVersion } from './tariffs.js';
import type { UsersApi } from '../users/api.js';
import { SUMMARY_COLUMNS, summaryColumns, summaryOf, summaryOfRow, type CostSummary, type CostSummaryRow } from './cost-summary.js';

// Each IN list stays under the bound-parameter limits of SQLite (999 in old builds) and PostgreSQL.
function* chunks(ids: readonly number[]): Generator<number[]> {
  for (let i = 0; i < ids.length; i += 500) yield ids.slice(i, i + 500);
}


/** A session's price and where it came from. */
export interface PricedSession {
  transactionId: number;
  tariffId: number;
  tariffName: string;
  tariffVersion: number;
  tariffVersionId: number;
  rule: Rule | null;
  /** An open session priced up to now: it changes until the session stops. */
  estimate: boolean;
  breakdown: Breakdown;
}

export interface CostDeps {
  db: Knex;
  core: CoreServices;
  tariffs: Tariffs;
  users: () => UsersApi | undefined;
  idleBelowW: number;
}

const ENERGY = ENERGY_REGISTER;
const POWER = ACTIVE_POWER;

/**
 * Prices sessions: fixes the tariff version when a session starts, prices
 * it from its stored readings when it stops, stores that cost, and gives
 * running estimates for open sessions.
 */
export class Costs {
  #d: CostDeps;
  /** Sessions being priced again after late readings, and those that got more readings meanwhile. */
  #repricing = new Map<number, Promise<void>>();
  #again = new Set<number>();

  constructor(deps: CostDeps) {
    this.#d = deps;
  }

  tx(id: number): Promise<Transaction | null> {
    return this.#d.core.transactions.get(id);
  }

  /** The lower-case group (parent) tag of a card: from its authorization, else from the users plugin. */
  async #parentOf(idTag: string, parentIdTag: string | null | undefined): Promise<string | null> {
    if (parentIdTag) return parentIdTag.toLowerCase();
    const tag = await this.#d.users()?.findTag(idTag).catch(() => null);
    return tag?.parentIdTag?.toLowerCase() ?? null;
  }

  /** Fixes the tariff version of a starting session: the one in force when it started. */
  async started(e: EventMap['session.started']): Promise<void> {
    const parent = await this.#parentOf(e.idTag, e.idTagInfo.parentIdTag);
    await this.#fix(e.transactionId, e, parent, false);
  }

  async #fix(
    transactionId: number, tx: { chargerId: string; connectorId: number; userId: number | null; idTag: string; startedAt: string },
    parent: string | null, replace: boolean,
  ): Promise<{ version: TariffVersion; rule: Rule } | null> {
    const who: Who = {
      chargerId: tx.chargerId, connectorId: tx.connectorId, userId: tx.userId,
      groupKeys: [...(parent ? [parent] : []), tx.idTag.toLowerCase()],
    };
    const found = resolveTariff(await this.#d.tariffs.candidates(), who);
    const version = found ? await this.#d.tariffs.versionAt(found.tariff.id, tx.startedAt) : null;
    const row = {
      transaction_id: transactionId, tariff_id: version?.tariffId ?? null, tariff_version_id: version?.id ?? null,
      rule: found?.rule ?? null, user_id: who.userId,
      // The parent tag is what group budgets count.
      group_key: parent,
      resolved_at: this.#d.core.clock.iso(),
    };
    await this.#d.core.writer.write(async (trx) => {
      const q = trx('billing_sessions').insert(row).onConflict('transaction_id');
      await (replace ? q.merge() : q.ignore());
    });
    return version && found ? { version, rule: found.rule } : null;
  }

  /** The session's tariff version: as fixed at its start, or resolved now if billing did not see the start. */
  async #tariffOf(tx: Transaction): Promise<{ version: TariffVersion; rule: Rule | null } | null> {
    const fixed = await this.#d.db('billing_sessions').where({ transaction_id: tx.id }).first();
    if (fixed?.tariff_version_id) {
      const version = await this.#d.tariffs.version(fixed.tariff_version_id as number);
      if (version) return { version, rule: (fixed.rule as Rule | null) ?? null };
    }
    // No tariff applied when it started (or billing was off): the tariff that applies now, in its version of that time.
    const parent = fixed ? (fixed.group_key as string | null) : await this.#parentOf(tx.idTag, null);
    const ref = { chargerId: tx.chargerId, connectorId: tx.connectorId, userId: tx.userId, idTag: tx.idTag, startedAt: tx.startedAt };
    return this.#fix(tx.id, ref, parent, true);
  }

  async #readings(txId: number): Promise<{ energy: Reading[]; power: Reading[] }> {
    const rows = await this.#d.core.readings.ofSession(txId, { measurands: [ENERGY, POWER], carSide: true });
    const energy: Reading[] = [];
    const unphased = new Map<number, number>();
    const phased = new Map<number, number>();
    for (const r of rows) {
      const ms = Date.parse(r.at);
      if (r.measurand === ENERGY) {
        if (!r.phase) energy.push({ ms, value: Number(r.value) });
      } else if (!r.phase) unphased.set(ms, Number(r.value));
      // Per-phase power adds up; line-to-line readings ("L1-L2") would count twice.
      else if (/^L[123](-N)?$/.test(r.phase)) phased.set(ms, (phased.get(ms) ?? 0) + Number(r.value));
    }
    for (const [ms, w] of phased) if (!unphased.has(ms)) unphased.set(ms, w);
    const power = [...unphased].map(([ms, value]) => ({ ms, value })).sort((a, b) => a.ms - b.ms);
    return { energy, power };
  }

  async #data(tx: Transaction): Promise<{ data: SessionData; estimate: boolean }> {
    const { energy, power } = await this.#readings(tx.id);
    const startMs = Date.parse(tx.startedAt);
    const accepted = tx.startStatus === 'Accepted';
    if (tx.stoppedAt) {
      return {
        estimate: false,
        data: { startMs, stopMs: Date.parse(tx.stoppedAt), meterStartWh: tx.meterStartWh, meterStopWh: tx.meterStopWh ?? tx.meterStartWh, energy, power, accepted },
      };
    }
    // Open: priced up to now, with the last reading as the stop reading.
    const last = energy[energy.length - 1];
    const stopMs = Math.max(this.#d.core.clock.nowMs(), last?.ms ?? startMs, power[power.length - 1]?.ms ?? startMs, startMs);
    const meterStopWh = Math.max(tx.meterStartWh, ...energy.map((r) => r.value));
    return { estimate: true, data: { startMs, stopMs, meterStartWh: tx.meterStartWh, meterStopWh, energy, power, accepted } };
  }

  /** The price of a session: the stored cost of a closed one (priced and stored now if missing), an estimate of an open one. */
  async price(tx: Transaction): Promise<PricedSession | null> {
    if (tx.stoppedAt) {
      const stored = await this.#d.db('billing_costs').where({ transaction_id: tx.id }).first();
      if (stored) return JSON.parse(stored.detail as string) as PricedSession;
    }
    const tariff = await this.#tariffOf(tx);
    if (!tariff) return null;
    const { data, estimate } = await this.#data(tx);
    const breakdown = priceSession(tariff.version.def, data, { timezone: this.#d.core.site.timezone, idleBelowW: this.#d.idleBelowW });
    const priced: PricedSession = {
      transactionId: tx.id, tariffId: tariff.version.tariffId, tariffName: tariff.version.def.name,
      tariffVersion: tariff.version.version, tariffVersionId: tariff.version.id, rule: tariff.rule, estimate, breakdown,
    };
    if (!estimate) await this.#store(priced);
    return priced;
  }

  /** The stored costs of closed sessions, by transaction id, in a few queries rather than one per session. */
  async storedAll(ids: readonly number[]): Promise<Map<number, PricedSession>> {
    const out = new Map<number, PricedSession>();
    for (const part of chunks(ids)) {
      const rows = await this.#d.db('billing_costs').whereIn('transaction_id', part).select('transaction_id', 'detail');
      for (const r of rows as Array<{ transaction_id: number; detail: string }>) out.set(Number(r.transaction_id), JSON.parse(r.detail) as PricedSession);
    }
    return out;
  }

  /** The stored amount and currency of closed sessions, by transaction id: a page of the session list. */
  async amounts(ids: readonly number[]): Promise<Map<number, { amount: string; currency: string }>> {
    const out = new Map<number, { amount: string; currency: string }>();
    for (const part of chunks(ids)) {
      const rows = await this.#d.db('billing_costs').whereIn('transaction_id', part).select('transaction_id', 'amount', 'currency');
      for (const r of rows as Array<{ transaction_id: number; amount: string; currency: string }>) out.set(Number(r.transaction_id), { amount: r.amount, currency: r.currency });
    }
    return out;
  }

  /**
   * What statements show of many sessions' prices, by transaction id (a
   * month's export has thousands): the stored summary columns, read as one
   * range of the primary key; sessions not priced yet are priced now.
   */
  async summaries(txs: readonly Transaction[]): Promise<Map<number, CostSummary | null>> {
    const out = new Map<number, CostSummary | null>();
    const closed = txs.filter((tx) => tx.stoppedAt);
    if (closed.length) {
      let lo = closed[0]!.id;
      let hi = lo;
      for (const tx of closed) {
        if (tx.id < lo) lo = tx.id;
        if (tx.id > hi) hi = tx.id;
      }
      const wanted = new Set(closed.map((tx) => tx.id));
      const table = () => this.#d.db('billing_costs').select(...SUMMARY_COLUMNS);
      // A month of the whole site has nearly consecutive ids (numbered as they start): one range scan, the few others
      // skipped. One driver's sessions are spread over that range: looked up by id.
      const dense = closed.length * 2 >= hi - lo + 1;
      const rows: CostSummaryRow[] = [];
      if (dense) rows.push(...await table().whereBetween('transaction_id', [lo, hi]) as CostSummaryRow[]);
      else for (const part of chunks(closed.map((tx) => tx.id))) rows.push(...await table().whereIn('transaction_id', part) as CostSummaryRow[]);
      for (const r of rows) {
        const id = Number(r.transaction_id);
        if (!wanted.has(id)) continue;
        const summary = summaryOfRow(r);
        if (summary) out.set(id, summary);
      }
    }
    // Rows stored before the summary columns existed are read from their JSON; open or unpriced sessions are priced.
    const missing = txs.filter((tx) => !out.has(tx.id));
    const stored = await this.storedAll(missing.filter((tx) => tx.stoppedAt).map((tx) => tx.id));
    for (const tx of missing) {
      const p = stored.get(tx.id) ?? await this.price(tx);
      out.set(tx.id, p ? summaryOf(p) : null);
    }
    return out;
  }

  async #store(p: PricedSession, replace = false): Promise<void> {
    await this.#d.core.writer.write(async (trx) => {
      const q = trx('billing_costs').insert({
        transaction_id: p.transactionId, tariff_id: p.tariffId, tariff_version_id: p.tariffVersionId,
        currency: p.breakdown.currency, amount: p.breakdown.amount, vat_amount: p.breakdown.vatAmount,
        energy_wh: p.breakdown.energyWh, detail: JSON.stringify(p), computed_at: this.#d.core.clock.iso(), ...summaryColumns(p),
      }).onConflict('transaction_id');
      await (replace ? q.merge() : q.ignore());
    });
  }

  /**
   * A reading of a session that has stopped and been priced arrived late (a
   * charger empties its queue after a reconnect): price it again with all its
   * readings and replace the stored cost. A burst of late readings is priced
   * once more after the one running, not once each.
   */
  lateReading(transactionId: number): Promise<void> {
    const running = this.#repricing.get(transactionId);
    if (running) {
      this.#again.add(transactionId);
      return running;
    }
    const run = (async () => {
      do {
        this.#again.delete(transactionId);
        await this.#reprice(transactionId);
      } while (this.#again.has(transactionId));
    })().finally(() => this.#repricing.delete(transactionId));
    this.#repricing.set(transactionId, run);
    return run;
  }

  async #reprice(transactionId: number): Promise<void> {
    const tx = await this.tx(transactionId);
    if (!tx?.stoppedAt) return;
    const stored = await this.#d.db('billing_costs').where({ transaction_id: transactionId }).first();
    if (!stored) return;
    const before = JSON.parse(stored.detail as string) as PricedSession;
    const tariff = await this.#tariffOf(tx);
    if (!tariff) return;
    const { data } = await this.#data(tx);
    const breakdown = priceSession(tariff.version.def, data, { timezone: this.#d.core.site.timezone, idleBelowW: this.#d.idleBelowW });
    if (JSON.stringify(breakdown) === JSON.stringify(before.breakdown)) return;
    await this.#store({ ...before, breakdown }, true);
  }

  /** Prices a stopped session and stores its cost. */
  async stopped(transactionId: number): Promise<void> {
    const tx = await this.tx(transactionId);
    if (tx?.stoppedAt) await this.price(tx);
  }
}
