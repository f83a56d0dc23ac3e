import type { AuthorizeAnswer, AuthorizeRequest } from '../../core/events.js';
import type { CoreServices } from '../../core/services.js';
import type { QueueStore } from './queue-store.js';
import type { ReservationStore } from './store.js';

/** A connector kept for one driver: a reservation or a waitlist offer. */
export interface Hold {
  kind: 'reservation' | 'queue';
  id: number;
  chargerId: string;
  /** 0 = any one connector of the charger. */
  connectorId: number;
  userId: number | null;
  idTag: string | null;
  parentIdTag: string | null;
  until: string;
}

/** The card presented, as the authorize decision saw it. */
export interface Card {
  idTag: string;
  userId?: number | null;
  parentIdTag?: string;
}

const same = (a: string | null | undefined, b: string | null | undefined) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

/**
 * Whether a card may use a hold: the reserving card, a card of the same
 * group (OCPP: the reservation's parentIdTag), or another card of the same
 * driver.
 */
export function owns(h: Hold, card: Card): boolean {
  if (h.userId !== null && card.userId != null && card.userId === h.userId) return true;
  if (same(h.idTag, card.idTag)) return true;
  return same(card.parentIdTag, h.parentIdTag) || same(card.parentIdTag, h.idTag);
}

/**
 * The hold that keeps this card off the charger, or null. A card at a known
 * connector is refused when another driver holds that connector, or when
 * "any connector" holds would be left without a free connector. With no
 * connector yet (Authorize), it is refused only when no free connector is
 * left for it at all.
 */
export function blockingHold(holds: Hold[], statuses: Map<number, string>, connectorId: number | null, card: Card): Hold | null {
  const others = holds.filter((h) => !owns(h, card));
  if (!others.length) return null;
  const anyConnector = others.filter((h) => h.connectorId === 0);
  const connectors = [...statuses.keys()].filter((c) => c > 0);
  const held = (c: number) => holds.some((h) => h.connectorId === c);
  if (connectorId !== null && connectorId > 0) {
    const onIt = others.find((h) => h.connectorId === connectorId);
    if (onIt) return onIt;
    if (anyConnector.length) {
      const freeElsewhere = connectors.filter((c) => c !== connectorId && statuses.get(c) === 'Available' && !held(c)).length;
      if (freeElsewhere < anyConnector.length) return anyConnector[0]!;
    }
    return null;
  }
  const open = connectors.filter((c) => !others.some((h) => h.connectorId === c) && FREE.has(statuses.get(c) ?? ''));
  if (open.length <= anyConnector.length) return others[0]!;
  return null;
}

// Connectors a card presented now could still start on (Preparing: a car plugged in before the card was shown).
const FREE = new Set(['Available', 'Preparing']);

/** Collects the holds of a charger and answers the core's restrict decision. */
export class Holds {
  readonly #core: Pick<CoreServices, 'chargers' | 'transactions'>;
  readonly #reservations: ReservationStore;
  readonly #queue: QueueStore;

  constructor(core: Pick<CoreServices, 'chargers' | 'transactions'>, reservations: ReservationStore, queue: QueueStore) {
    this.#core = core;
    this.#reservations = reservations;
    this.#queue = queue;
  }

  async at(chargerId?: string): Promise<Hold[]> {
    const [res, offers] = await Promise.all([this.#reservations.holding(chargerId), this.#queue.holding(chargerId)]);
    return [
      ...res.map((r): Hold => ({
        kind: 'reservation', id: r.id, chargerId: r.chargerId, connectorId: r.connectorId, userId: r.userId,
        idTag: r.idTag, parentIdTag: r.parentIdTag, until: r.expiresAt,
      })),
      ...offers.map((q): Hold => ({
        kind: 'queue', id: q.id, chargerId: q.offeredChargerId!, connectorId: q.offeredConnectorId!, userId: q.userId,
        idTag: null, parentIdTag: null, until: q.holdUntil!,
      })),
    ];
  }

  /**
   * Connector statuses of a charger as its last StatusNotification said,
   * except that a connector with a running session counts as Charging: a
   * charger may start a session before it reports the status change.
   */
  async statuses(chargerId: string): Promise<Map<number, string>> {
    const [rows, open] = await Promise.all([
      this.#core.chargers.connectors({ chargerId }),
      this.#core.transactions.openAtCharger(chargerId),
    ]);
    const out = new Map<number, string>(rows.map((r) => [r.connectorId, r.status]));
    for (const t of open) out.set(t.connectorId, 'Charging');
    return out;
  }

  async #charging(chargerId: string, idTag: string): Promise<boolean> {
    return this.#core.transactions.cardIsCharging(idTag, { at: chargerId });
  }

  /** The restrict decision: Invalid for a card on a connector held for someone else. */
  async restrict(req: AuthorizeRequest & { answer: AuthorizeAnswer }): Promise<AuthorizeAnswer | undefined> {
    const holds = await this.at(req.chargerId);
    if (!holds.length) return undefined;
    // A card shown without a connector while its own session runs here is about to stop it.
    if (req.connectorId === null && await this.#charging(req.chargerId, req.idTag)) return undefined;
    const card: Card = { idTag: req.idTag, userId: req.answer.userId ?? null, ...(req.answer.parentIdTag ? { parentIdTag: req.answer.parentIdTag } : {}) };
    const blocking = blockingHold(holds, await this.statuses(req.chargerId), req.connectorId, card);
    return blocking ? { status: 'Invalid', userId: req.answer.userId ?? null } : undefined;
  }
}
