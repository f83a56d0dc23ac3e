import { ApiError } from '../../core/errors.js';
import type { Principal } from '../../core/types.js';
import type { Tag, UsersApi } from '../users/api.js';


export const isDriver = (p: Principal | null): boolean => p?.role === 'driver';

/** A card that may charge now, as far as the tag itself says (the authorize decision has the last word). */
export const usable = (t: Tag, nowIso: string, chargerId?: string): boolean =>
  t.status === 'Accepted' && (!t.expiresAt || t.expiresAt > nowIso) && (!chargerId || !t.chargerIds || t.chargerIds.includes(chargerId));

/**
 * The card a request acts with. Drivers may name only their own cards and
 * get their first usable one when they name none; staff name any known card,
 * or a driver (userId) whose first usable card is taken.
 */
export async function cardFor(
  users: UsersApi, principal: Principal, nowIso: string,
  want: { idTag?: string; userId?: number; chargerId?: string; prefer?: string | null },
): Promise<Tag> {
  if (want.idTag) {
    const tag = await users.findTag(want.idTag);
    if (isDriver(principal)) {
      if (!tag || tag.userId !== principal.userId) throw new ApiError(403, `card ${want.idTag} is not one of your cards`);
    } else if (!tag) {
      throw ApiError.badRequest([{ field: 'idTag', message: `no card ${want.idTag} is registered` }]);
    }
    return tag;
  }
  const owner = isDriver(principal) ? principal.userId : want.userId;
  if (owner === undefined) throw ApiError.badRequest([{ field: 'idTag', message: 'name the card (idTag) or the driver (userId)' }]);
  const tags = (await users.tagsOf(owner)).filter((t) => usable(t, nowIso, want.chargerId));
  const pick = tags.find((t) => want.prefer && t.idTag.toLowerCase() === want.prefer.toLowerCase()) ?? tags[0];
  if (!pick) {
    const who = isDriver(principal) ? 'you have' : `user ${owner} has`;
    throw ApiError.badRequest([{ field: 'idTag', message: `${who} no active card${want.chargerId ? ` for ${want.chargerId}` : ''}` }]);
  }
  return pick;
}
