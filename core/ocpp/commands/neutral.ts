import type { SendOptions } from '../../services.js';
import { CommandNotInProtocolError } from '../send-error.js';

/** The OCPP versions the edge speaks, by WebSocket subprotocol. */
export type Protocol = 'ocpp1.6' | 'ocpp2.0.1';

/** One version's wire form of a neutral command: the action, its payload, and how its reply reads in neutral terms. */
export interface Wire<Out> {
  action: string;
  payload: unknown;
  answer(reply: unknown): Out;
}

/** Builds a version's wire form from the neutral input; a version without one does not have the command. */
export type Translations<In, Out> = Partial<Record<Protocol, (input: In) => Wire<Out>>>;

/** What a command needs of the core: which version a charger speaks, and the raw send (validated, audited, emitted). */
export interface CommandRunner {
  protocolOf(chargerId: string): Promise<Protocol>;
  send(chargerId: string, action: string, payload: unknown, opts: SendOptions): Promise<unknown>;
  /** 2.0.1: the charger's own transactionId of one of its sessions (the core's id), or null when it is not one of its. */
  transactionRef?(chargerId: string, transactionId: number): Promise<string | null>;
}

/** A command plugins call without knowing the charger's version. */
export type NeutralCommand<In, Out> = (chargerId: string, input: In, opts: SendOptions) => Promise<Out>;

const LABELS: Record<Protocol, string> = { 'ocpp1.6': 'OCPP 1.6', 'ocpp2.0.1': 'OCPP 2.0.1' };

/** Joins the translations of one command into the function plugins call. */
export function neutral<In, Out>(runner: CommandRunner, name: string, translations: Translations<In, Out>): NeutralCommand<In, Out> {
  return async (chargerId, input, opts) => {
    const protocol = await runner.protocolOf(chargerId);
    const translate = translations[protocol];
    if (!translate) throw new CommandNotInProtocolError(name, protocol, `${chargerId} speaks ${LABELS[protocol]}, which has no ${name}`);
    const wire = translate(input);
    return wire.answer(await runner.send(chargerId, wire.action, wire.payload, opts));
  };
}

/** The usual answer: the charger's own status word, and whether it took the command. */
export interface CommandAnswer {
  accepted: boolean;
  /** As the charger said it: "Accepted", "Rejected", "Scheduled", "RebootRequired", ... */
  status: string;
}

/** Reads `{ status }` replies; `acceptedWords` are the statuses that count as taken. */
export const statusAnswer = (...acceptedWords: string[]) => (reply: unknown): CommandAnswer => {
  const status = String((reply as { status?: unknown } | null)?.status ?? 'Unknown');
  return { accepted: ['Accepted', ...acceptedWords].includes(status), status };
};
