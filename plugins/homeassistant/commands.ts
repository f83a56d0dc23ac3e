import type { CoreServices } from '../../core/services.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger, Role } from '../../core/types.js';
import type { Model } from './state.js';
import { parseCommand, type Button } from './topics.js';

/** The audit log's actor for every press that comes from Home Assistant. */
export const ACTOR = 'homeassistant';
/** A press is a word; anything longer is not one of ours. */
const MAX_PAYLOAD_BYTES = 32;
/** One command per charger this often at most: a flood on the broker must not become a flood on a charger's socket. */
export const MIN_INTERVAL_MS = 2_000;
/** Roles that may send the everyday commands from the API (POST /api/chargers/{id}/commands/{action}). */
const COMMANDERS: readonly Role[] = ['admin', 'installer', 'technician'];

/**
 * Button presses from Home Assistant, sent to the chargers as the core's neutral commands (each charger gets its
 * own OCPP version's) with the configured role, audited as actor "homeassistant".
 */
export function createCommands(o: {
  core: CoreServices; model: Model; log: Logger; topicPrefix: string;
  role: Role; idTag: string | undefined; timeoutMs: number;
}) {
  const last = new Map<string, number>();
  let dropped = 0;

  // Refusals are audited under the button's name: no command went out, so there is no OCPP action to name.
  const refuse = async (chargerId: string, button: Button, reason: string) => {
    o.log.warn(`refused ${button} from Home Assistant: ${reason}`);
    await o.core.audit.record(ACTOR, `command.${button}`, chargerId, { refused: reason, role: o.role });
  };

  // The press as a call of the core's command, or why there is none to make.
  const commandOf = async (chargerId: string, connectorId: number, button: Button): Promise<(() => Promise<unknown>) | string> => {
    const { commands } = o.core.chargers;
    const opts = { actor: ACTOR, timeoutMs: o.timeoutMs };
    switch (button) {
      case 'start': {
        const idTag = o.idTag;
        return idTag ? () => commands.remoteStart(chargerId, { connectorId, idTag }, opts) : 'no commands.idTag is configured for starts';
      }
      case 'stop': {
        const tx = await o.core.transactions.openOn(chargerId, connectorId);
        return tx ? () => commands.remoteStop(chargerId, { sessionId: tx.id }, opts) : `no session is running on connector ${connectorId}`;
      }
      case 'unlock': return () => commands.unlock(chargerId, { connectorId }, opts);
      case 'reset': return () => commands.reset(chargerId, {}, opts);
    }
  };

  return {
    /** Every message on the command subscription; anything not exactly a press of a known button is ignored. */
    async handle(topic: string, payload: Buffer): Promise<void> {
      const cmd = parseCommand(o.topicPrefix, topic);
      if (!cmd || payload.length > MAX_PAYLOAD_BYTES || payload.toString('utf8').trim() !== 'PRESS') return;
      const m = o.model.bySlug(cmd.slug);
      if (!m) return;
      const isCharger = cmd.button === 'reset';
      if (isCharger ? cmd.connectorId !== 0 : !m.connectors.has(cmd.connectorId)) return;
      const now = o.core.clock.nowMs();
      if (now - (last.get(m.id) ?? -Infinity) < MIN_INTERVAL_MS) {
        dropped += 1;
        return;
      }
      last.set(m.id, now);
      const { button } = cmd;
      if (!COMMANDERS.includes(o.role)) return refuse(m.id, button, `role ${o.role} may not send commands`);
      const commandOrWhy = await commandOf(m.id, cmd.connectorId, button);
      if (typeof commandOrWhy === 'string') return refuse(m.id, button, commandOrWhy);
      try {
        // The core audits it (actor homeassistant) with the charger's answer or the error.
        await commandOrWhy();
        o.log.info(`${button} from Home Assistant sent to ${m.slug}`);
      } catch (err) {
        o.log.warn(`${button} from Home Assistant to ${m.slug} failed: ${errorMessage(err).slice(0, 200)}`);
      }
    },
    /** Presses dropped by the rate limit since start. */
    dropped: () => dropped,
  };
}
