import type { CommandRunner } from './neutral.js';
import { provisioningCommands } from './provisioning.js';
import { smartChargingCommands } from './smart-charging.js';
import { authorizationCommands } from './authorization.js';

export type { CommandAnswer, CommandRunner, NeutralCommand, Protocol } from './neutral.js';

/**
 * Commands by what they do, not by OCPP version: each picks the action and payload of the
 * version the charger speaks and reads its reply back. Plugins use these instead of send(),
 * so that nothing in a plugin names a version. One family per file; add new families below.
 */
export function createCommands(runner: CommandRunner) {
  return {
    // provisioning: reset, availability
    ...provisioningCommands(runner),
    // sessions: remote start/stop, unlock, reservations

    // smart charging: charging profiles, composite schedules
    ...smartChargingCommands(runner),

    // authorisation: local list, auth cache
    ...authorizationCommands(runner),

    // configuration, data transfer, firmware, logs

  };
}

export type ChargerCommands = ReturnType<typeof createCommands>;
