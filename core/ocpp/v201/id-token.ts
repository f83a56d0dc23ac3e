import type { AuthorizeAnswer, AuthorizeRequest } from '../../events.js';
import type { OcppContext } from '../context.js';

/** An OCPP 2.0.1 IdTokenType; `type` is one of ISO14443, ISO15693, eMAID, Central, KeyCode, Local, MacAddress, NoAuthorization. */
export interface IdToken { idToken: string; type: string; additionalInfo?: Array<{ additionalIdToken: string; type: string }> }

/** The 2.0.1 IdTokenInfoType the charger gets back. */
export interface IdTokenInfo {
  status: string;
  cacheExpiryDateTime?: string;
  groupIdToken?: { idToken: string; type: string };
}

export interface TokenDecision {
  /** The neutral answer (status, expiryDate, parentIdTag, userId), as an OCPP 1.6 card would get. */
  answer: AuthorizeAnswer;
  /** The same answer in 2.0.1 words. */
  idTokenInfo: IdTokenInfo;
}

/**
 * The authorize decision for a 2.0.1 token: its idToken is the neutral
 * idTag, decided like a 1.6 card (the users plugin, restrict, else
 * ocpp.freeVend). NoAuthorization names no one (a charger that lets anyone
 * charge): it follows ocpp.freeVend and no plugin is asked.
 */
export async function decideToken(ctx: OcppContext, token: IdToken, req: Omit<AuthorizeRequest, 'idTag'>): Promise<TokenDecision> {
  const answer: AuthorizeAnswer = token.type === 'NoAuthorization'
    ? { status: ctx.config.freeVend ? 'Accepted' : 'Invalid', userId: null }
    : await ctx.authorize({ ...req, idTag: token.idToken }, true);
  return { answer, idTokenInfo: toIdTokenInfo(answer) };
}

/**
 * The neutral statuses are all 2.0.1 AuthorizationStatus values; a card no one knows is Unknown, which 2.0.1
 * has and 1.6 does not (there it is Invalid). Expiry and group tag take their 2.0.1 names.
 */
export function toIdTokenInfo(a: AuthorizeAnswer): IdTokenInfo {
  return {
    status: a.status === 'Invalid' && a.known === false ? 'Unknown' : a.status,
    ...(a.expiryDate ? { cacheExpiryDateTime: a.expiryDate } : {}),
    ...(a.parentIdTag ? { groupIdToken: { idToken: a.parentIdTag, type: 'Central' } } : {}),
  };
}
