import type { IdTagInfo } from '../../events.js';
import type { Handler } from '../context.js';

export const authorize: Handler<{ idTag: string }, { idTagInfo: IdTagInfo }> = async (ctx, cp, p) => {
  const answer = await ctx.authorize({ chargerId: cp.id, connectorId: null, idTag: p.idTag, context: 'Authorize' });
  const { userId: _userId, known: _known, ...idTagInfo } = answer;
  return { idTagInfo };
};
