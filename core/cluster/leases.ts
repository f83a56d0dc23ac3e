import type { Knex } from 'knex';
import type { GroupWriter } from '../db/writer.js';

/** What the OCPP edge writes through: the group writer, or a fenced one in a cluster. */
export type OcppWriter = Pick<GroupWriter, 'write' | 'insert'>;

// PostgreSQL caps bound parameters per statement; stay well below like the group writer does.
const MAX_VARIABLES = 900;

/** A write of a charger's state by a node that no longer holds its lease; nothing of it was stored. */
export class LeaseLostError extends Error {
  constructor(readonly chargerId: string, readonly epoch: number) {
    super(`the lease of charger ${chargerId} moved to another node (this node held epoch ${epoch}); write refused`);
    this.name = 'LeaseLostError';
  }
}

interface LeaseRow { charger_id: string; node_id: string; epoch: string | number }

/**
 * The cluster_leases table: one owner node per charger. Times are the database's (now()), so the nodes'
 * clocks never have to agree.
 */
export class Leases {
  #db: Knex;
  readonly nodeId: string;
  #timeoutMs: number;
  /** Transactions already fenced per lease, so a batch checks each charger's lease once. */
  #checked = new WeakMap<Knex.Transaction, Set<string>>();

  constructor(db: Knex, nodeId: string, timeoutMs: number) {
    this.#db = db;
    this.nodeId = nodeId;
    this.#timeoutMs = timeoutMs;
  }

  /** Takes the charger's lease for this node (epoch + 1); returns it and the node that held it. */
  async claim(chargerId: string): Promise<{ epoch: number; previous: string | null }> {
    return this.#db.transaction(async (trx) => {
      const old = await trx<LeaseRow>('cluster_leases').where({ charger_id: chargerId }).forUpdate().first();
      const [row] = await trx('cluster_leases')
        .insert({ charger_id: chargerId, node_id: this.nodeId, epoch: 1, renewed_at: trx.fn.now() })
        .onConflict('charger_id')
        .merge({ node_id: this.nodeId, epoch: trx.raw('?? + 1', ['cluster_leases.epoch']), renewed_at: trx.fn.now() })
        .returning('epoch') as Array<{ epoch: string | number }>;
      const live = old && old.node_id !== this.nodeId ? old.node_id : null;
      return { epoch: Number(row!.epoch), previous: live };
    });
  }

  /**
   * Renews the leases this node still holds; returns the charger ids whose lease moved (to be closed).
   * A released lease stays released: a renewal that raced the disconnect must not make it live again.
   */
  async renew(held: Map<string, number>): Promise<string[]> {
    if (held.size === 0) return [];
    const ids = [...held.keys()];
    const epochs = ids.map((id) => held.get(id)!);
    const { rows } = await this.#db.raw(
      `update cluster_leases l set renewed_at = now() from unnest(?::text[], ?::bigint[]) as v(id, epoch)
       where l.charger_id = v.id and l.epoch = v.epoch and l.node_id = ? and l.renewed_at is not null returning l.charger_id`,
      [ids, epochs, this.nodeId],
    ) as { rows: Array<{ charger_id: string }> };
    const renewed = new Set(rows.map((r) => r.charger_id));
    return ids.filter((id) => !renewed.has(id));
  }

  /** Marks a lease released (its charger disconnected); the row and its epoch stay, so an old epoch never comes back. */
  async release(chargerId: string, epoch: number): Promise<void> {
    await this.#db('cluster_leases').where({ charger_id: chargerId, node_id: this.nodeId, epoch }).update({ renewed_at: null });
  }

  /** Chargers connected to other nodes now: their lease was renewed within the lease timeout. */
  async elsewhere(): Promise<Map<string, string>> {
    const rows = await this.#db<LeaseRow>('cluster_leases')
      .whereNot({ node_id: this.nodeId })
      .whereRaw(`renewed_at > now() - (? * interval '1 millisecond')`, [this.#timeoutMs])
      .select('charger_id', 'node_id');
    return new Map(rows.map((r) => [r.charger_id, r.node_id]));
  }

  /** The node serving a charger now, if its lease is live. */
  async ownerOf(chargerId: string): Promise<string | null> {
    const row = await this.#db<LeaseRow>('cluster_leases').where({ charger_id: chargerId })
      .whereRaw(`renewed_at > now() - (? * interval '1 millisecond')`, [this.#timeoutMs]).first('node_id');
    return row?.node_id ?? null;
  }

  /**
   * Fails the transaction unless this node still holds the lease at this epoch. FOR SHARE keeps the lease
   * row from moving until the transaction commits, so no write of a stale node can land after a claim.
   */
  async guard(trx: Knex.Transaction, chargerId: string, epoch: number): Promise<void> {
    const key = `${chargerId}\n${epoch}`;
    let done = this.#checked.get(trx);
    if (done?.has(key)) return;
    const row = await trx('cluster_leases').where({ charger_id: chargerId, node_id: this.nodeId, epoch }).forShare().first('epoch');
    if (!row) throw new LeaseLostError(chargerId, epoch);
    if (!done) this.#checked.set(trx, (done = new Set()));
    done.add(key);
  }

  /** A writer whose every write first checks the lease, inside the group commit's transaction. */
  fenced(writer: GroupWriter, chargerId: string, epoch: number): OcppWriter {
    return {
      write: (fn) => writer.write(async (trx) => {
        await this.guard(trx, chargerId, epoch);
        return fn(trx);
      }),
      // Merged inserts cannot carry a guard, so a fenced insert is a write of its own (cluster mode only).
      insert: (table, rows, options = {}) => {
        if (rows.length === 0) return Promise.resolve();
        const ignoreOn = options.ignoreOn ?? null;
        return writer.write(async (trx) => {
          await this.guard(trx, chargerId, epoch);
          const per = Math.max(1, Math.floor(MAX_VARIABLES / Object.keys(rows[0]!).length));
          for (let i = 0; i < rows.length; i += per) {
            const q = trx(table).insert(rows.slice(i, i + per));
            await (ignoreOn ? q.onConflict(ignoreOn).ignore() : q);
          }
        });
      },
    };
  }
}
