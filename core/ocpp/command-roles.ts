import { isSecretConfigKey } from '../redact.js';
import type { Role } from '../types.js';

/**
 * Commands that can change what a charger runs, who may charge on it, or how
 * much power it draws: installer and admin only. A technician keeps the rest
 * (reset, unlock, availability, diagnostics, triggers, reading configuration).
 */
export const INSTALLER_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  'UpdateFirmware', 'SignedUpdateFirmware', 'SendLocalList', 'SetChargingProfile', 'ClearChargingProfile', 'DataTransfer',
  // Who the charger trusts and which certificate it presents.
  'CertificateSigned', 'InstallCertificate', 'GetInstalledCertificateIds', 'DeleteCertificate',
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

/**
 * OCPP 2.0.1 components whose variables decide who the charger trusts or lets charge: a SetVariables
 * of any of their variables is installer-only, like a 1.6 ChangeConfiguration of a security key.
 */
export const SECURITY_COMPONENTS: ReadonlySet<string> = new Set(['SecurityCtrlr', 'AuthCtrlr', 'AuthCacheCtrlr', 'LocalAuthListCtrlr']);

const INSTALLERS: Role[] = ['admin', 'installer'];

/** The first variable of a 2.0.1 SetVariables that is a security setting, as "Component.variable". */
function securityVariable(payload: unknown): string | null {
  const data = (payload as { setVariableData?: unknown } | null)?.setVariableData;
  if (!Array.isArray(data)) return null;
  for (const d of data as Array<{ component?: { name?: unknown }; variable?: { name?: unknown } }>) {
    const component = String(d?.component?.name ?? '');
    const variable = String(d?.variable?.name ?? '');
    if (SECURITY_COMPONENTS.has(component) || SECURITY_CONFIG_KEYS.has(variable) || isSecretConfigKey(variable) || variable === 'NetworkConfigurationPriority') {
      return `${component}.${variable}`;
    }
  }
  return null;
}

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
  if (action === 'SetVariables') {
    const name = securityVariable(payload);
    if (name) return `changing ${name} is for installers and admins: it is a security setting of the charger`;
  }
  return null;
}
