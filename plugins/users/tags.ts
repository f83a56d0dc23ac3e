import { Type } from '@sinclair/typebox';

export type TagStatus = 'Accepted' | 'Blocked';

/** An RFID card (OCPP idTag) as the API shows it. */
export interface Tag {
  /** As first entered; matching ignores case. */
  idTag: string;
  /** The account that owns the card; null = unassigned. */
  userId: number | null;
  status: TagStatus;
  /** ISO time after which the card is refused as Expired; null = never. */
  expiresAt: string | null;
  /** The group card (fleet, household) this card belongs to. */
  parentIdTag: string | null;
  /** Chargers where the card may be used; null = every charger. */
  chargerIds: string[] | null;
  note: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface TagRow {
  id_tag_key: string; id_tag: string; user_id: number | null; status: TagStatus; expires_at: string | null;
  parent_key: string | null; parent_id_tag: string | null; charger_ids: string | null; note: string | null;
  created_at: string; updated_at: string;
}

/** Fields a create, update, import line or adoption may set; strings are checked by tag-input.ts. */
export interface TagInput {
  idTag?: string;
  userId?: number | null;
  status?: string;
  expiresAt?: string | null;
  parentIdTag?: string | null;
  chargerIds?: string[] | null;
  note?: string | null;
}

export const tagKey = (idTag: string): string => idTag.trim().toLowerCase();

export const toTag = (r: TagRow): Tag => ({
  idTag: r.id_tag,
  userId: r.user_id ?? null,
  status: r.status,
  expiresAt: r.expires_at ?? null,
  parentIdTag: r.parent_id_tag ?? null,
  chargerIds: r.charger_ids ? (JSON.parse(r.charger_ids) as string[]) : null,
  note: r.note ?? null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The shortest idTag any charger takes is a CiString20; spaces would not survive a CSV or a charger's keypad. */
export const ID_TAG = Type.String({
  pattern: '^[\\x21-\\x7E]{1,20}$', description: 'an idTag of 1-20 printable characters without spaces',
});

/** Path words of /api/tags/... that cannot also be idTags. */
export const RESERVED_ID_TAGS = new Set(['unknown', 'import', 'export']);

/** What a card is worth at a given moment, after its owner, its group and its expiry are taken into account. */
export interface Effective {
  status: 'Accepted' | 'Blocked' | 'Expired';
  /** The earlier of the card's and its group's expiry. */
  expiryDate: string | null;
  /** Where it may be used: the card's and its group's restrictions together; null = everywhere. */
  chargerIds: string[] | null;
}

export interface EffectiveInput {
  tag: Tag;
  parent: Tag | null;
  ownerDisabled: boolean;
  nowIso: string;
}

export function effective({ tag, parent, ownerDisabled, nowIso }: EffectiveInput): Effective {
  const expiries = [tag.expiresAt, parent?.expiresAt].filter((x): x is string => Boolean(x)).sort();
  const expiryDate = expiries[0] ?? null;
  let chargerIds = tag.chargerIds;
  if (parent?.chargerIds) chargerIds = chargerIds ? chargerIds.filter((c) => parent.chargerIds!.includes(c)) : parent.chargerIds;
  let status: Effective['status'] = 'Accepted';
  if (ownerDisabled || tag.status === 'Blocked' || parent?.status === 'Blocked') status = 'Blocked';
  else if (expiryDate && expiryDate <= nowIso) status = 'Expired';
  return { status, expiryDate, chargerIds };
}

/** Whether a change takes access away somewhere, so chargers must forget what they cached. */
export function narrows(before: Effective | null, after: Effective | null): boolean {
  if (!before || before.status !== 'Accepted') return false;
  if (!after || after.status !== 'Accepted') return true;
  if (after.expiryDate && (!before.expiryDate || after.expiryDate < before.expiryDate)) return true;
  if (after.chargerIds && (!before.chargerIds || before.chargerIds.some((c) => !after.chargerIds!.includes(c)))) return true;
  return false;
}
