import { isSecretConfigKey } from '../redact.js';
import type { Role } from '../types.js';

/**
 * Commands that can change what a charger runs, who may charge on it, or how
 * much power it draws: installer and admin only. A technician keeps the rest
 * (reset, unlock, availability, diagnostics, triggers, reading configuration).
 */
export const INSTALLER_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  'UpdateFirmware', 'SendLocalList', 'SetChargingProfile', 'ClearChargingProfile', 'DataTransfer',
]);

/**
 * Configuration keys that decide who the charger trusts or lets charge; a
 * ChangeConfiguration of one of them (or of any key holding a secret) is
 * installer-only too.
 */
export const SECURITY_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'AuthorizationKey', 'SecurityProfile', 'AdditionalRootCertificateCheck', 'CpoName',
  'CertificateSignedMaxChainSize', 'CertificateStoreMaxLength',
  'AuthorizeRemoteTxRequests', 'AllowOfflineTxForUnknownId', 'LocalAuthorizeOffline', 'LocalPreAuthorize',
  'AuthorizationCacheEnabled', 'LocalAuthListEnabled',
]);

const INSTALLERS: Role[] = ['admin', 'installer'];

/** Why this role may not send this command, or null when it may. */
export function commandRefusal(role: Role, action: string, payload: unknown): string | null {
  if (INSTALLERS.includes(role)) return null;
  if (INSTALLER_ONLY_COMMANDS.has(action)) return `${action} is for installers and admins: it changes what the charger runs or who may charge`;
  if (action === 'ChangeConfiguration') {
    const key = (payload as { key?: unknown } | null)?.key;
    if (typeof key === 'string' && (SECURITY_CONFIG_KEYS.has(key) || isSecretConfigKey(key))) {
      return `changing ${key} is for installers and admins: it is a security setting of the charger`;
    }
  }
  return null;
}
