import type { CommandRunner } from './neutral.js';
import { certificateCommands } from './certificates.js';
import { maintenanceCommands } from './maintenance.js';
import { configurationCommands } from './configuration.js';
import { provisioningCommands } from './provisioning.js';
import { sessionCommands, type SessionLookup } from './sessions.js';
import { smartChargingCommands } from './smart-charging.js';
import { authorizationCommands } from './authorization.js';

export type { CommandAnswer, CommandRunner, NeutralCommand, Protocol } from './neutral.js';
export type { SessionLookup, UnlockAnswer } from './sessions.js';

/**
 * Commands by what they do, not by OCPP version: each picks the action and payload of the
 * version the charger speaks and reads its reply back. Plugins use these instead of send(),
 * so that nothing in a plugin names a version. One family per file; add new families below.
 */
export function createCommands(runner: CommandRunner & SessionLookup) {
  return {
    // provisioning: reset, availability
    ...provisioningCommands(runner),
    // sessions: remote start/stop, unlock, reservations
    ...sessionCommands(runner),

    // smart charging: charging profiles, composite schedules
    ...smartChargingCommands(runner),

    // authorisation: local list, auth cache
    ...authorizationCommands(runner),

    // configuration, data transfer, firmware, logs
    ...maintenanceCommands(runner),
    ...configurationCommands(runner),
    // certificates: charger certificates, installed roots
    ...certificateCommands(runner),

  };
}

export type ChargerCommands = ReturnType<typeof createCommands>;
