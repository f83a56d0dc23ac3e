import type { CoreServices } from '../../core/services.js';
import { errorMessage } from '../../core/errors.js';
import { commandRefusal } from '../../core/ocpp/command-roles.js';
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

const ACTION: Record<Button, string> = {
  start: 'RemoteStartTransaction', stop: 'RemoteStopTransaction', unlock: 'UnlockConnector', reset: 'Reset',
};

/**
 * Button presses from Home Assistant, sent to the chargers through the core's
 * command path with the configured role, audited as actor "homeassistant".
 */
export function createCommands(o: {
  core: CoreServices; model: Model; log: Logger; topicPrefix: string;
  role: Role; idTag: string | undefined; timeoutMs: number;
}) {
  const last = new Map<string, number>();
  let dropped = 0;

  const refuse = async (chargerId: string, action: string, reason: string) => {
    o.log.warn(`refused ${action} from Home Assistant: ${reason}`);
    await o.core.audit.record(ACTOR, `command.${action}`, chargerId, { refused: reason, role: o.role });
  };

  const payloadOf = async (chargerId: string, connectorId: number, button: Button): Promise<unknown | string> => {
    switch (button) {
      case 'start': return o.idTag ? { connectorId, idTag: o.idTag } : 'no commands.idTag is configured for starts';
      case 'stop': {
        const tx = await o.core.transactions.openOn(chargerId, connectorId);
        return tx ? { transactionId: tx.id } : `no session is running on connector ${connectorId}`;
      }
      case 'unlock': return { connectorId };
      case 'reset': return { type: 'Soft' };
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
      const action = ACTION[cmd.button];
      if (!COMMANDERS.includes(o.role)) return refuse(m.id, action, `role ${o.role} may not send commands`);
      const payloadOrWhy = await payloadOf(m.id, cmd.connectorId, cmd.button);
      if (typeof payloadOrWhy === 'string') return refuse(m.id, action, payloadOrWhy);
      const byRole = commandRefusal(o.role, action, payloadOrWhy);
      if (byRole) return refuse(m.id, action, byRole);
      try {
        // The core audits it (actor homeassistant) with the charger's answer or the error.
        await o.core.chargers.send(m.id, action, payloadOrWhy, { actor: ACTOR, timeoutMs: o.timeoutMs });
        o.log.info(`${action} from Home Assistant sent to ${m.slug}`);
      } catch (err) {
        o.log.warn(`${action} from Home Assistant to ${m.slug} failed: ${errorMessage(err).slice(0, 200)}`);
      }
    },
    /** Presses dropped by the rate limit since start. */
    dropped: () => dropped,
  };
}
