import type { Handler } from '../context.js';
import { decideToken, type IdToken, type IdTokenInfo } from './id-token.js';

export const authorize: Handler<{ idToken: IdToken }, { idTokenInfo: IdTokenInfo }> = async (ctx, cp, p) => {
  const { idTokenInfo } = await decideToken(ctx, p.idToken, { chargerId: cp.id, connectorId: null, context: 'Authorize' });
  return { idTokenInfo };
};
