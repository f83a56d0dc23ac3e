import type { Transactions } from '../../core/transactions.js';
import type { AuthorizeAnswer, AuthorizeRequest } from '../../core/events.js';
import type { TagStore } from './tag-store.js';
import { tagKey } from './tags.js';
import type { UnknownTags } from './unknown-tags.js';

export interface AuthorizeDeps {
  transactions: Transactions;
  tags: TagStore;
  unknown: UnknownTags;
  concurrentTx: 'refuse' | 'allow';
}

/**
 * The idTagInfo for a card presented at a charger (Authorize, Start- and
 * StopTransaction) or named in a remote start. Order matters: a blocked or
 * expired card says so even where it would not be allowed anyway.
 */
export function authorizer(d: AuthorizeDeps): (req: AuthorizeRequest) => Promise<AuthorizeAnswer> {
  return async (req) => {
    const key = tagKey(req.idTag);
    const valued = (await d.tags.valued([key])).get(key);
    if (!valued) {
      // A remote start names a card an operator typed; only cards held to a reader are strangers worth adopting.
      if (req.context !== 'RemoteStart') await d.unknown.record(req);
      return { status: 'Invalid', userId: null, known: false };
    }
    const { tag, eff } = valued;
    const answer = (status: AuthorizeAnswer['status']): AuthorizeAnswer => ({
      status,
      ...(eff.expiryDate ? { expiryDate: eff.expiryDate } : {}),
      ...(tag.parentIdTag ? { parentIdTag: tag.parentIdTag } : {}),
      userId: tag.userId,
    });
    if (eff.status !== 'Accepted') return answer(eff.status);
    if (eff.chargerIds && !eff.chargerIds.includes(req.chargerId)) return answer('Invalid');
    // Stopping is always allowed, and a card may stop its own session at the same charger.
    if (d.concurrentTx === 'refuse' && req.context !== 'StopTransaction') {
      if (await d.transactions.cardIsCharging(key, { notAt: req.chargerId })) return answer('ConcurrentTx');
    }
    return answer('Accepted');
  };
}
