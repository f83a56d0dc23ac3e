import { ApiError, type FieldProblem } from '../errors.js';

/**
 * Why a command to a charger failed: no socket, no reply in time, a CALLERROR, a payload OCPP refuses, a card the
 * site refuses, or an action of another OCPP version than the charger speaks (the last two are never sent).
 */
export type SendErrorKind = 'offline' | 'timeout' | 'callerror' | 'invalid' | 'refused' | 'unsupported';

// Each failure has its own class only so that `kind` narrows to its details (code, fields, idTag);
// callers switch on `kind` from sendErrorOf() and never test the classes one by one.
abstract class SendErrorBase extends Error {
  abstract readonly kind: SendErrorKind;
}

/** The charger has no open socket. */
export class ChargerOfflineError extends SendErrorBase {
  readonly kind = 'offline';
}

/** The charger did not answer within the call timeout. */
export class ChargerTimeoutError extends SendErrorBase {
  readonly kind = 'timeout';
}

/** The request payload is not valid OCPP; `fields` names each bad field. */
export class CommandPayloadError extends SendErrorBase {
  readonly kind = 'invalid';
  constructor(message: string, readonly fields: FieldProblem[]) { super(message); }
}

/** The charger answered with a CALLERROR. */
export class ChargerCallError extends SendErrorBase {
  readonly kind = 'callerror';
  /** The OCPP error code, e.g. "NotImplemented". */
  constructor(readonly code: string, message: string) { super(message); }
}

/** A RemoteStartTransaction names a card the site refuses here; nothing was sent. */
export class CardRefusedError extends SendErrorBase {
  readonly kind = 'refused';
  constructor(readonly idTag: string, readonly status: string, chargerId: string, action = 'RemoteStartTransaction') {
    super(`card ${idTag} is not accepted at ${chargerId} (${status}); ${action} was not sent`);
  }
}

/** An action of another OCPP version than the one the charger speaks ("ReserveNow is an OCPP 1.6 command; CP1 speaks OCPP 2.0.1"). */
export class CommandNotInProtocolError extends SendErrorBase {
  readonly kind = 'unsupported';
  constructor(readonly action: string, readonly protocol: string, message: string) { super(message); }
}

/** Everything the core's send() rejects with besides unexpected failures. */
export type SendError = ChargerOfflineError | ChargerTimeoutError | CommandPayloadError | ChargerCallError | CardRefusedError | CommandNotInProtocolError;

/** The error as a SendError when it is one, else null. */
export function sendErrorOf(err: unknown): SendError | null {
  // The base is private to this module, so its only subclasses are the members of SendError.
  return err instanceof SendErrorBase ? (err as SendError) : null;
}

/** The answer the command routes give for a failed send; anything else is rethrown. */
export function commandApiError(err: unknown): never {
  const e = sendErrorOf(err);
  switch (e?.kind) {
    case 'invalid': throw ApiError.badRequest(e.fields);
    case 'offline': throw new ApiError(409, e.message);
    case 'timeout': throw new ApiError(504, e.message);
    case 'callerror': throw new ApiError(502, `charger answered ${e.code}: ${e.message}`);
    case 'refused': throw ApiError.conflict(e.message);
    case 'unsupported': throw ApiError.conflict(e.message);
    default: throw err;
  }
}
