import type { Knex } from 'knex';

export const ENERGY_REGISTER = 'Energy.Active.Import.Register';
export const ACTIVE_POWER = 'Power.Active.Import';

/**
 * The one rule for which readings describe what the car drew: at the
 * outlet, the cable or the EV. An empty location is the OCPP default
 * (Outlet); Inlet and Body readings include the charger's own use.
 */
export const CAR_SIDE_LOCATIONS: readonly string[] = ['', 'Outlet', 'Cable', 'EV'];

/** A stored reading in SI units (Wh, W, A, V). */
export interface SessionReading {
  at: string;
  measurand: string;
  phase: string;
  location: string;
  context: string;
  unit: string;
  value: number;
}

export interface ReadingQuery {
  /** Only these measurands (default: all). */
  measurands?: readonly string[];
  /** Only readings taken at the car side (CAR_SIDE_LOCATIONS). */
  carSide?: boolean;
  /** Only readings without a phase (the charger's totals). */
  totalsOnly?: boolean;
  /** Newest first, at most this many; default oldest first, all. */
  latest?: number;
}

/**
 * Readings of a session, for plugins and the API. Each reading must come
 * from the session's own charger and connector: a row that another charger
 * tagged with this transaction id (stored before ids were checked at the
 * edge) never counts towards the session.
 */
export class Readings {
  constructor(private readonly db: Knex) {}

  #base(transactionId: number, q: ReadingQuery): Knex.QueryBuilder {
    const query = this.db('meter_values as m')
      .join('transactions as t', (j) => {
        j.on('t.id', '=', 'm.transaction_id').andOn('t.charger_id', '=', 'm.charger_id').andOn('t.connector_id', '=', 'm.connector_id');
      })
      .where('m.transaction_id', transactionId);
    if (q.measurands) query.whereIn('m.measurand', [...q.measurands]);
    if (q.carSide) query.whereIn('m.location', [...CAR_SIDE_LOCATIONS]);
    if (q.totalsOnly) query.where('m.phase', '');
    return query;
  }

  async ofSession(transactionId: number, q: ReadingQuery = {}): Promise<SessionReading[]> {
    const query = this.#base(transactionId, q);
    if (q.latest !== undefined) query.orderBy('m.at', 'desc').orderBy('m.id', 'desc').limit(q.latest);
    else query.orderBy('m.at').orderBy('m.id');
    const rows = await query.select('m.at', 'm.measurand', 'm.phase', 'm.location', 'm.context', 'm.unit', 'm.value') as SessionReading[];
    for (const r of rows) r.value = Number(r.value);
    return rows;
  }

  /** Highest energy register total the session reported at the car side, in Wh; null without readings. */
  async maxEnergyWh(transactionId: number): Promise<number | null> {
    const row = await this.#base(transactionId, { measurands: [ENERGY_REGISTER], carSide: true, totalsOnly: true })
      .max('m.value as v').first() as { v?: number | null } | undefined;
    return row?.v == null ? null : Number(row.v);
  }

  /** Highest energy register total of the session and the time of the last one, e.g. to resume watching it after a restart. */
  async energyHigh(transactionId: number, q: Pick<ReadingQuery, 'carSide'> = {}): Promise<{ wh: number | null; at: string | null }> {
    const row = await this.#base(transactionId, { measurands: [ENERGY_REGISTER], totalsOnly: true, ...q })
      .max({ wh: 'm.value' }).max({ at: 'm.at' }).first() as { wh?: number | null; at?: string | null } | undefined;
    return { wh: row?.wh == null ? null : Number(row.wh), at: row?.at ?? null };
  }

  /** Time of the session's last reading of any kind; null without readings. */
  async lastAt(transactionId: number): Promise<string | null> {
    const row = await this.#base(transactionId, {}).max('m.at as at').first() as { at?: string | null } | undefined;
    return row?.at ?? null;
  }
}
