import type { SendOptions } from '../../services.js';
import { CommandPayloadError } from '../send-error.js';
import { type CommandAnswer, type CommandRunner, neutral, type Protocol, statusAnswer } from './neutral.js';

/** A card without a known technology: most RFID cards at a charger's reader are ISO 14443 (MIFARE). */
const DEFAULT_TOKEN_TYPE = 'ISO14443';

/** What the core's sessions are called at their charger. */
export interface SessionLookup {
  /**
   * The open session `sessionId` (a row of `transactions`) of this charger, with the transactionId string an
   * OCPP 2.0.1 charger gave it (null for a session begun over 1.6); null when it is not an open session of this charger.
   */
  openSession(chargerId: string, sessionId: number): Promise<{ chargerTransactionId: string | null } | null>;
}

export interface RemoteStartInput {
  /** The connector (1.6) or EVSE (2.0.1) to start on; omitted: the charger picks. */
  connectorId?: number;
  /** The card the session is for; checked like a card at the reader before anything is sent. */
  idTag: string;
  /** 2.0.1 IdTokenType of the card (ISO14443, ISO15693, KeyCode, Central, ...); ISO14443 when omitted. */
  idTokenType?: string;
}

export interface RemoteStopInput {
  /** The core's session id (transactions.id), as the API and session events name it. */
  sessionId: number;
}

export interface UnlockInput {
  /** The connector; for 2.0.1 the EVSE of that id (its connector 1). */
  connectorId: number;
}

/** Whether the connector was released, and the charger's own word for it. */
export interface UnlockAnswer {
  unlocked: boolean;
  /** As the charger said it: "Unlocked", "UnlockFailed", "NotSupported", "OngoingAuthorizedTransaction", "UnknownConnector". */
  status: string;
}

export interface ReserveInput {
  /** The id the reserving side picked; the charger names the reservation by it afterwards. */
  reservationId: number;
  /** 0: any connector of the charger (2.0.1: no EVSE named). */
  connectorId: number;
  idTag: string;
  /** The group card: any card of the group may use the reservation. */
  parentIdTag?: string;
  /** 2.0.1 IdTokenType of the card; ISO14443 when omitted. */
  idTokenType?: string;
  /** ISO time the reservation lapses at the charger. */
  expiresAt: string;
}

export interface CancelReservationInput {
  reservationId: number;
}

const unlockAnswer = (reply: unknown): UnlockAnswer => {
  const status = String((reply as { status?: unknown } | null)?.status ?? 'Unknown');
  return { unlocked: status === 'Unlocked', status };
};

/** A session id that names no open session of this charger is refused before anything is sent. */
const notHere = (chargerId: string, sessionId: number, why: string) => new CommandPayloadError(
  `session ${sessionId} ${why}; nothing was sent to ${chargerId}`,
  [{ field: 'sessionId', message: `session ${sessionId} ${why}` }],
);

/** Remote start and stop, unlocking, reservations. */
export function sessionCommands(runner: CommandRunner & SessionLookup) {
  // The charger names a remote start by this id in its TransactionEvent; seconds since 1970 as the start keep it
  // unique across restarts without a table (int32 lasts until 2038, then wraps to 1).
  let lastRemoteStartId = Math.floor(Date.now() / 1000) % 2_147_483_647;
  const nextRemoteStartId = () => (lastRemoteStartId = (lastRemoteStartId % 2_147_483_646) + 1);

  const stopWire = neutral<{ sessionId: number; chargerTransactionId: string | null }, CommandAnswer>(runner, 'remoteStop', {
    'ocpp1.6': (i) => ({ action: 'RemoteStopTransaction', payload: { transactionId: i.sessionId }, answer: statusAnswer() }),
    'ocpp2.0.1': (i) => ({ action: 'RequestStopTransaction', payload: { transactionId: i.chargerTransactionId }, answer: statusAnswer() }),
  });

  return {
    remoteStart: neutral<RemoteStartInput, CommandAnswer>(runner, 'remoteStart', {
      'ocpp1.6': (i) => ({
        action: 'RemoteStartTransaction',
        payload: { ...(i.connectorId !== undefined ? { connectorId: i.connectorId } : {}), idTag: i.idTag },
        answer: statusAnswer(),
      }),
      'ocpp2.0.1': (i) => ({
        action: 'RequestStartTransaction',
        payload: {
          idToken: { idToken: i.idTag, type: i.idTokenType ?? DEFAULT_TOKEN_TYPE }, remoteStartId: nextRemoteStartId(),
          ...(i.connectorId !== undefined ? { evseId: i.connectorId } : {}),
        },
        answer: statusAnswer(),
      }),
    }),

    /** Stops a session of this charger; the session is looked up on this charger only, so no id crosses chargers. */
    async remoteStop(chargerId: string, input: RemoteStopInput, opts: SendOptions): Promise<CommandAnswer> {
      const open = Number.isSafeInteger(input.sessionId) ? await runner.openSession(chargerId, input.sessionId) : null;
      if (!open) throw notHere(chargerId, input.sessionId, `is not a running session of ${chargerId}`);
      const protocol: Protocol = await runner.protocolOf(chargerId);
      if (protocol === 'ocpp2.0.1' && open.chargerTransactionId === null) {
        throw notHere(chargerId, input.sessionId, `began before ${chargerId} spoke OCPP 2.0.1 and has no transactionId there`);
      }
      return stopWire(chargerId, { sessionId: input.sessionId, chargerTransactionId: open.chargerTransactionId }, opts);
    },

    unlock: neutral<UnlockInput, UnlockAnswer>(runner, 'unlock', {
      'ocpp1.6': (i) => ({ action: 'UnlockConnector', payload: { connectorId: i.connectorId }, answer: unlockAnswer }),
      'ocpp2.0.1': (i) => ({ action: 'UnlockConnector', payload: { evseId: i.connectorId, connectorId: 1 }, answer: unlockAnswer }),
    }),

    reserve: neutral<ReserveInput, CommandAnswer>(runner, 'reserve', {
      'ocpp1.6': (i) => ({
        action: 'ReserveNow',
        payload: {
          connectorId: i.connectorId, expiryDate: i.expiresAt, idTag: i.idTag, reservationId: i.reservationId,
          ...(i.parentIdTag ? { parentIdTag: i.parentIdTag } : {}),
        },
        answer: statusAnswer(),
      }),
      'ocpp2.0.1': (i) => ({
        action: 'ReserveNow',
        payload: {
          id: i.reservationId, expiryDateTime: i.expiresAt, idToken: { idToken: i.idTag, type: i.idTokenType ?? DEFAULT_TOKEN_TYPE },
          // Connector 0 is "any connector": 2.0.1 says so by naming no EVSE.
          ...(i.connectorId > 0 ? { evseId: i.connectorId } : {}),
          ...(i.parentIdTag ? { groupIdToken: { idToken: i.parentIdTag, type: 'Central' } } : {}),
        },
        answer: statusAnswer(),
      }),
    }),

    cancelReservation: neutral<CancelReservationInput, CommandAnswer>(runner, 'cancelReservation', {
      'ocpp1.6': (i) => ({ action: 'CancelReservation', payload: { reservationId: i.reservationId }, answer: statusAnswer() }),
      'ocpp2.0.1': (i) => ({ action: 'CancelReservation', payload: { reservationId: i.reservationId }, answer: statusAnswer() }),
    }),
  };
}
