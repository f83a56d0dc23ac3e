import type { Handler } from '../context.js';
import { authorize } from './authorize.js';
import { bootNotification } from './boot-notification.js';
import { heartbeat } from './heartbeat.js';
import { meterValues } from './meter-values.js';
import {
  dataTransfer, diagnosticsStatusNotification, firmwareStatusNotification, logStatusNotification,
  securityEventNotification, signedFirmwareStatusNotification,
} from './notifications.js';
import { signCertificate } from './sign-certificate.js';
import { startTransaction } from './start-transaction.js';
import { statusNotification } from './status-notification.js';
import { stopTransaction } from './stop-transaction.js';

/** One handler per charger-to-system action of OCPP 1.6J (plus the security extension's notifications). */
export const v16Handlers: Record<string, Handler<never, unknown>> = {
  Authorize: authorize,
  BootNotification: bootNotification,
  DataTransfer: dataTransfer,
  DiagnosticsStatusNotification: diagnosticsStatusNotification,
  FirmwareStatusNotification: firmwareStatusNotification,
  Heartbeat: heartbeat,
  MeterValues: meterValues,
  StartTransaction: startTransaction,
  StatusNotification: statusNotification,
  StopTransaction: stopTransaction,
  SecurityEventNotification: securityEventNotification,
  LogStatusNotification: logStatusNotification,
  SignedFirmwareStatusNotification: signedFirmwareStatusNotification,
  SignCertificate: signCertificate,
} as Record<string, Handler<never, unknown>>;

/** Actions a charger may send before an operator approved it. */
export const allowedWhilePending = new Set(['BootNotification', 'Heartbeat', 'StatusNotification', 'FirmwareStatusNotification', 'DiagnosticsStatusNotification', 'SecurityEventNotification']);

/** System-to-charger actions of the six OCPP 1.6 profiles, for the command API and UI. */
export const v16Commands: Record<string, string> = {
  ChangeAvailability: 'Core', ChangeConfiguration: 'Core', ClearCache: 'Core', DataTransfer: 'Core',
  GetConfiguration: 'Core', RemoteStartTransaction: 'Core', RemoteStopTransaction: 'Core', Reset: 'Core',
  UnlockConnector: 'Core',
  GetDiagnostics: 'FirmwareManagement', UpdateFirmware: 'FirmwareManagement',
  GetLocalListVersion: 'LocalAuthListManagement', SendLocalList: 'LocalAuthListManagement',
  ReserveNow: 'Reservation', CancelReservation: 'Reservation',
  TriggerMessage: 'RemoteTrigger',
  SetChargingProfile: 'SmartCharging', ClearChargingProfile: 'SmartCharging', GetCompositeSchedule: 'SmartCharging',
  // The security whitepaper's signed firmware update and log upload (the 1.6 schemas include them).
  SignedUpdateFirmware: 'FirmwareManagement', GetLog: 'FirmwareManagement',
  // The whitepaper's certificate management and its trigger for a new charger certificate.
  CertificateSigned: 'Security', InstallCertificate: 'Security', GetInstalledCertificateIds: 'Security', DeleteCertificate: 'Security',
  ExtendedTriggerMessage: 'Security',
};
