import type { Knex } from 'knex';

/** A stored StatusNotification, at the charger's time. */
export interface StatusEntry {
  connectorId: number;
  status: string;
  at: string;
}

/** A charger's socket opening or closing, at the appliance's time. */
export interface LinkEntry {
  online: boolean;
  at: string;
}

export interface BootCount {
  count: number;
  first: string;
  last: string;
}

interface StatusRow { id: number; charger_id: string; connector_id: number; status: string; charger_time: string }
interface MessageRow { id: number; charger_id: string; action: string; received_at: string }
interface BootRow { charger_id: string; received_at: string }

const toStatus = (r: Pick<StatusRow, 'connector_id' | 'status' | 'charger_time'>): StatusEntry => ({
  connectorId: Number(r.connector_id), status: r.status, at: r.charger_time,
});
const toLink = (r: Pick<MessageRow, 'action' | 'received_at'>): LinkEntry => ({ online: r.action === 'connected', at: r.received_at });

/** What chargers said over time (statuses, connections, boots), for plugins that chart or judge it. */
export class ChargerHistory {
  constructor(private readonly db: Knex) {}

  /** Status changes since fromIso, plus the last one before it of each connector (the state the period starts in). */
  async statusesSince(chargerId: string, fromIso: string): Promise<StatusEntry[]> {
    const rows = await this.db<StatusRow>('status_notifications').where({ charger_id: chargerId }).andWhere('charger_time', '>=', fromIso)
      .select('connector_id', 'status', 'charger_time');
    const out = rows.map(toStatus);
    for (const id of await this.connectorIds(chargerId)) {
      const before = await this.db<StatusRow>('status_notifications').where({ charger_id: chargerId, connector_id: id }).andWhere('charger_time', '<', fromIso)
        .orderBy('charger_time', 'desc').orderBy('id', 'desc').first('connector_id', 'status', 'charger_time');
      if (before) out.push(toStatus(before));
    }
    return out;
  }

  /**
   * The connectors a charger ever sent a status for, ascending. One index seek per connector
   * (status_notifications_by_connector) rather than a DISTINCT over every status it ever sent.
   */
  async connectorIds(chargerId: string): Promise<number[]> {
    const ids: number[] = [];
    for (;;) {
      const q = this.db<StatusRow>('status_notifications').where({ charger_id: chargerId });
      if (ids.length) q.andWhere('connector_id', '>', ids[ids.length - 1]!);
      // An aggregate: knex cannot type it from the row.
      const row = await q.min({ id: 'connector_id' }).first() as unknown as { id: number | string | null } | undefined;
      if (row?.id === null || row?.id === undefined) return ids;
      ids.push(Number(row.id));
    }
  }

  /** Connects and disconnects since fromIso, plus the last one before it. */
  async linksSince(chargerId: string, fromIso: string): Promise<LinkEntry[]> {
    const links = () => this.db<MessageRow>('charger_messages').where({ charger_id: chargerId }).whereIn('action', ['connected', 'disconnected']);
    const out = (await links().andWhere('received_at', '>=', fromIso).select('action', 'received_at')).map(toLink);
    const last = await links().andWhere('received_at', '<', fromIso).orderBy('received_at', 'desc').orderBy('id', 'desc').first('action', 'received_at');
    if (last) out.push(toLink(last));
    return out;
  }

  /** Boots per charger since fromIso (of one charger, or all). */
  async bootsSince(fromIso: string, chargerId: string | null = null): Promise<Map<string, BootCount>> {
    const q = this.db<BootRow>('boot_notifications').where('received_at', '>=', fromIso)
      .select('charger_id').count({ n: '*' }).min({ first: 'received_at' }).max({ last: 'received_at' }).groupBy('charger_id');
    if (chargerId) q.where({ charger_id: chargerId });
    // Aggregates: knex cannot type them from the row.
    const rows = await q as unknown as Array<{ charger_id: string; n: number | string; first: string; last: string }>;
    return new Map(rows.map((r) => [r.charger_id, { count: Number(r.n), first: r.first, last: r.last }]));
  }
}
