import type { Tag } from './tags.js';

export type { Tag, TagStatus } from './tags.js';

/**
 * The users plugin's public surface: what other plugins get from
 * ctx.use('users'). They `import type` it from here and never import the
 * plugin's code.
 */
export interface UsersApi {
  /** The tag for an idTag (any case), or null. */
  findTag(idTag: string): Promise<Tag | null>;
  /** The tags an account owns: their parents are the user's groups. */
  tagsOf(userId: number): Promise<Tag[]>;
}
