import type { Handler } from './context.js';
import { checkBounds } from './limits.js';
import { commandPayloadError } from './validators.js';
import { commandExamples } from './v16/examples.js';
import { allowedWhilePending, v16Commands, v16Handlers } from './v16/index.js';
import { v16Validate } from './v16/validate.js';
import { checkBounds201 } from './v201/bounds.js';
import { v201AllowedWhilePending, v201CommandExamples, v201Commands, v201Handlers } from './v201/index.js';
import { v201Validate } from './v201/validate.js';

/** One OCPP version the edge speaks: its handlers, what a pending charger may send, its commands and checks. */
export interface Edition {
  /** The WebSocket subprotocol, e.g. "ocpp2.0.1"; also what chargers.protocol stores. */
  protocol: string;
  /** How people name it: "OCPP 2.0.1". */
  label: string;
  handlers: Record<string, Handler<never, unknown>>;
  allowedWhilePending: ReadonlySet<string>;
  /** System-to-charger actions, each with its feature profile (1.6) or functional block (2.0.1). */
  commands: Record<string, string>;
  examples: Record<string, unknown>;
  /** Bounds the schemas leave open; throws the CALLERROR. */
  checkBounds(action: string, params: unknown): void;
  /** Checks an operator's payload; throws CommandPayloadError naming each bad field. */
  validateCommand(action: string, payload: unknown): void;
}

const V16: Edition = {
  protocol: 'ocpp1.6', label: 'OCPP 1.6', handlers: v16Handlers, allowedWhilePending, commands: v16Commands, examples: commandExamples,
  checkBounds,
  validateCommand(action, payload) {
    // Operators' payloads are never cut: a too-long field is named in the 400.
    try { v16Validate(`urn:${action}.req`, payload, false); } catch (err) { throw commandPayloadError(action, err); }
  },
};

const V201: Edition = {
  protocol: 'ocpp2.0.1', label: 'OCPP 2.0.1', handlers: v201Handlers, allowedWhilePending: v201AllowedWhilePending,
  commands: v201Commands, examples: v201CommandExamples, checkBounds: checkBounds201,
  validateCommand(action, payload) {
    try { v201Validate(`urn:${action}.req`, payload); } catch (err) { throw commandPayloadError(action, err); }
  },
};

/** Every version, in the server's order of preference: a charger offering both gets 1.6, which the plugins fully serve. */
export const EDITIONS: readonly Edition[] = [V16, V201];

/** The edition of a subprotocol; a charger that never connected (no protocol stored) counts as 1.6. */
export function editionOf(protocol: string | null | undefined): Edition {
  return EDITIONS.find((e) => e.protocol === protocol) ?? V16;
}
