/**
 * What billing needs from the users plugin (ctx.use('users')). The users
 * plugin's UsersApi already has this shape; billing works without it, using
 * the userId and parentIdTag it sees on session.started only.
 */
export interface UsersLookup {
  /** The card for an idTag (any case), or null. */
  findTag(idTag: string): Promise<{ idTag: string; userId: number | null; parentIdTag: string | null } | null>;
  /** The cards an account owns: their parents are the user's groups (for the price shown before charging). */
  tagsOf?(userId: number): Promise<Array<{ idTag: string; parentIdTag: string | null }>>;
}
