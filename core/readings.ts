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

  /**
   * Every open session of a stored charger with its newest car-side energy register total and power (the
   * total, or its phases added up when the newest reading has none), in one query of an index seek each.
   */
  async newestOfOpenSessions(): Promise<Array<{ transactionId: number; chargerId: string; connectorId: number; meterStartWh: number; energyWh: number | null; powerW: number | null }>> {
    const newest = (measurand: string, column: 'value' | 'at', totalsOnly: boolean) => {
      const q = this.db('meter_values as m').select(`m.${column}`)
        .whereRaw('m.transaction_id = t.id and m.charger_id = t.charger_id and m.connector_id = t.connector_id')
        .where('m.measurand', measurand).whereIn('m.location', [...CAR_SIDE_LOCATIONS]);
      if (totalsOnly) q.where('m.phase', '');
      return q.orderBy('m.at', 'desc').orderBy('m.id', 'desc').limit(1);
    };
    const rows = await this.db('transactions as t').whereIn('t.charger_id', this.db('chargers').select('id')).whereNull('t.stopped_at')
      .orderBy('t.id').select('t.id', 't.charger_id', 't.connector_id', 't.meter_start_wh', newest(ENERGY_REGISTER, 'value', true).as('energy'),
        newest(ACTIVE_POWER, 'value', true).as('power'), newest(ACTIVE_POWER, 'at', true).as('total_at'), newest(ACTIVE_POWER, 'at', false).as('power_at')) as
      Array<{ id: number; charger_id: string; connector_id: number; meter_start_wh: number; energy: number | null; power: number | null; total_at: string | null; power_at: string | null }>;
    return Promise.all(rows.map(async (r) => {
      let powerW: number | null = null;
      if (r.power_at !== null && r.total_at === r.power_at) powerW = Number(r.power);
      else if (r.power_at !== null) {
        // The newest power reading has no total: its phases added up (a query more, for such chargers only).
        powerW = 0;
        for (const p of await this.ofSession(r.id, { measurands: [ACTIVE_POWER], carSide: true, latest: 4 })) if (p.at === r.power_at) powerW += p.value;
      }
      return {
        transactionId: Number(r.id), chargerId: r.charger_id, connectorId: Number(r.connector_id), meterStartWh: Number(r.meter_start_wh),
        energyWh: r.energy === null ? null : Number(r.energy), powerW,
      };
    }));
  }

  /** Time of the session's last reading of any kind; null without readings. */
  async lastAt(transactionId: number): Promise<string | null> {
    const row = await this.#base(transactionId, {}).max('m.at as at').first() as { at?: string | null } | undefined;
    return row?.at ?? null;
  }
}
