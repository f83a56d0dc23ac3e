import type { Knex } from 'knex';
import type { CoreServices } from '../../core/services.js';
import type { BillingConfig } from './config.js';
import { monthRange, periodOf } from './time.js';
import type { UsersApi } from '../users/api.js';

/** A monthly energy cap and how much of it is used. */
export interface BudgetStatus {
  userId: number | null;
  groupIdTag: string | null;
  period: string;
  monthlyKwh: number;
  usedWh: number;
  remainingWh: number;
  exceeded: boolean;
  /** Why charging is refused, in words, when exceeded. */
  reason: string | null;
}

export interface BudgetDeps {
  db: Knex;
  core: CoreServices;
  budgets: BillingConfig['budgets'];
  users: () => UsersApi | undefined;
}

/**
 * Monthly kWh caps per user or group (parent tag). Energy counts in the
 * month a session started (site time zone); running sessions count with
 * their latest reading. A cap is exceeded once the energy reaches it.
 */
export class Budgets {
  #d: BudgetDeps;

  constructor(deps: BudgetDeps) {
    this.#d = deps;
  }

  async #used(scope: { userId?: number; groupKey?: string }, period: string): Promise<number> {
    const { fromMs, toMs } = monthRange(period, this.#d.core.site.timezone);
    // Sessions come from the core; which belong to a group is billing's own record (or the group card itself).
    const sessions = await this.#d.core.transactions.acceptedStartedBetween(new Date(fromMs).toISOString(), new Date(toMs).toISOString(), scope.userId);
    let rows = sessions;
    if (scope.userId === undefined) {
      const key = scope.groupKey!;
      // Bounded by the month's lowest session id rather than a list of ids (a busy month has thousands).
      const firstId = sessions.reduce((m, t) => Math.min(m, t.id), Infinity);
      const inGroup = new Set<number>(sessions.length
        ? await this.#d.db('billing_sessions').where({ group_key: key }).where('transaction_id', '>=', firstId).pluck('transaction_id')
        : []);
      rows = sessions.filter((t) => inGroup.has(t.id) || t.idTag.toLowerCase() === key);
    }
    let wh = 0;
    for (const r of rows) {
      if (r.stoppedAt) { wh += r.energyWh ?? 0; continue; }
      const lastWh = await this.#d.core.readings.maxEnergyWh(r.id);
      if (lastWh !== null) wh += Math.max(0, lastWh - r.meterStartWh);
    }
    return wh;
  }

  #status(b: BillingConfig['budgets'][number], usedWh: number, period: string): BudgetStatus {
    const capWh = b.monthlyKwh * 1000;
    const exceeded = usedWh >= capWh;
    const whose = b.userId !== undefined ? 'Monthly energy budget' : `Monthly energy budget of group ${b.groupIdTag}`;
    return {
      userId: b.userId ?? null, groupIdTag: b.groupIdTag ?? null, period, monthlyKwh: b.monthlyKwh,
      usedWh, remainingWh: Math.max(0, capWh - usedWh), exceeded,
      reason: exceeded ? `${whose} of ${b.monthlyKwh} kWh is used up for ${period} (${(usedWh / 1000).toFixed(1)} kWh charged)` : null,
    };
  }

  /** Every configured budget with its use this month. */
  async all(): Promise<BudgetStatus[]> {
    const period = periodOf(this.#d.core.clock.nowMs(), this.#d.core.site.timezone);
    const out: BudgetStatus[] = [];
    for (const b of this.#d.budgets) {
      const used = await this.#used(b.userId !== undefined ? { userId: b.userId } : { groupKey: b.groupIdTag!.toLowerCase() }, period);
      out.push(this.#status(b, used, period));
    }
    return out;
  }

  /** The budgets that concern an account (and the card presented, for its group). */
  async of(userId: number | null, idTag?: string): Promise<BudgetStatus[]> {
    const groups = new Set<string>();
    const users = this.#d.users();
    if (idTag) {
      groups.add(idTag.toLowerCase());
      const tag = await users?.findTag(idTag).catch(() => null);
      if (tag?.parentIdTag) groups.add(tag.parentIdTag.toLowerCase());
    } else if (userId !== null && users?.tagsOf) {
      for (const t of await users.tagsOf(userId).catch(() => [])) if (t.parentIdTag) groups.add(t.parentIdTag.toLowerCase());
    }
    return (await this.all()).filter((s) => (s.userId !== null && s.userId === userId) || (s.groupIdTag !== null && groups.has(s.groupIdTag.toLowerCase())));
  }

  /** Whether charging should be refused: a cap of this account or of the card's group is used up. */
  async exceeded(userId: number | null, idTag?: string): Promise<boolean> {
    if (!this.#d.budgets.length) return false;
    return (await this.of(userId, idTag)).some((s) => s.exceeded);
  }
}
