import type { Handler } from '../context.js';
import { heartbeat } from '../v16/heartbeat.js';
import { firmwareStatusNotification, logStatusNotification, securityEventNotification } from '../v16/notifications.js';
import { authorize } from './authorize.js';
import { bootNotification } from './boot-notification.js';
import { meterValues } from './meter-values.js';
import { notifyEvent } from './notify-event.js';
import { reservationStatusUpdate } from './reservation-status.js';
import { signCertificate } from './sign-certificate.js';
import { notifyReport } from './notify-report.js';
import { statusNotification } from './status-notification.js';
import { transactionEvent } from './transaction-event.js';

/**
 * Charger-to-system actions of OCPP 2.0.1 served so far. Heartbeat and the
 * firmware, log and security notifications have the same payloads as in 1.6
 * (plus an optional requestId), so their 1.6 handlers serve both.
 */
export const v201Handlers: Record<string, Handler<never, unknown>> = {
  Authorize: authorize,
  BootNotification: bootNotification,
  FirmwareStatusNotification: firmwareStatusNotification,
  Heartbeat: heartbeat,
  LogStatusNotification: logStatusNotification,
  MeterValues: meterValues,
  NotifyEvent: notifyEvent,
  ReservationStatusUpdate: reservationStatusUpdate,
  NotifyReport: notifyReport,
  SecurityEventNotification: securityEventNotification,
  SignCertificate: signCertificate,
  StatusNotification: statusNotification,
  TransactionEvent: transactionEvent,
} as Record<string, Handler<never, unknown>>;

/** Actions a 2.0.1 charger may send before an operator approved it. */
export const v201AllowedWhilePending = new Set(['BootNotification', 'Heartbeat', 'StatusNotification', 'FirmwareStatusNotification', 'SecurityEventNotification', 'NotifyEvent']);

/** System-to-charger actions of OCPP 2.0.1 the command API sends, by functional block. */
export const v201Commands: Record<string, string> = {
  RequestStartTransaction: 'Transactions', RequestStopTransaction: 'Transactions',
  Reset: 'Provisioning', GetVariables: 'Provisioning', SetVariables: 'Provisioning', GetBaseReport: 'Provisioning',
  UnlockConnector: 'Availability', ChangeAvailability: 'Availability',
  TriggerMessage: 'RemoteControl',
  ReserveNow: 'Reservation', CancelReservation: 'Reservation',
  UpdateFirmware: 'FirmwareManagement', GetLog: 'Diagnostics', DataTransfer: 'DataTransfer',
  SetChargingProfile: 'SmartCharging', ClearChargingProfile: 'SmartCharging', GetCompositeSchedule: 'SmartCharging',
  SendLocalList: 'LocalAuthorizationListManagement', GetLocalListVersion: 'LocalAuthorizationListManagement', ClearCache: 'Authorization',
  CertificateSigned: 'Security', InstallCertificate: 'ISO15118CertificateManagement', GetInstalledCertificateIds: 'ISO15118CertificateManagement', DeleteCertificate: 'ISO15118CertificateManagement',
};

/** A valid sample payload per 2.0.1 command, shown in the UI's command form. */
export const v201CommandExamples: Record<string, unknown> = {
  RequestStartTransaction: { idToken: { idToken: 'ABC123', type: 'ISO14443' }, remoteStartId: 1, evseId: 1 },
  RequestStopTransaction: { transactionId: 'the charger\'s transactionId' },
  Reset: { type: 'OnIdle' },
  GetVariables: { getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] },
  SetVariables: { setVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' }, attributeValue: '300' }] },
  GetBaseReport: { requestId: 1, reportBase: 'ConfigurationInventory' },
  UnlockConnector: { evseId: 1, connectorId: 1 },
  ChangeAvailability: { operationalStatus: 'Operative', evse: { id: 1 } },
  TriggerMessage: { requestedMessage: 'StatusNotification' },
  ReserveNow: { id: 1, expiryDateTime: '2030-01-01T12:00:00Z', idToken: { idToken: 'ABC123', type: 'ISO14443' }, evseId: 1 },
  CancelReservation: { reservationId: 1 },
  UpdateFirmware: { requestId: 1, firmware: { location: 'http://example.org/firmware.bin', retrieveDateTime: '2030-01-01T00:00:00Z' } },
  GetLog: { logType: 'DiagnosticsLog', requestId: 1, log: { remoteLocation: 'http://chargekeeper.local:8080/api/diagnostics/upload' } },
  DataTransfer: { vendorId: 'com.example', messageId: 'hello', data: '' },
  SetChargingProfile: {
    evseId: 0,
    chargingProfile: {
      id: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Relative',
      chargingSchedule: [{ id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16, numberPhases: 3 }] }],
    },
  },
  ClearChargingProfile: { chargingProfileId: 1 },
  GetCompositeSchedule: { evseId: 1, duration: 3600, chargingRateUnit: 'A' },
  SendLocalList: {
    versionNumber: 1, updateType: 'Full',
    localAuthorizationList: [{ idToken: { idToken: 'ABC123', type: 'ISO14443' }, idTokenInfo: { status: 'Accepted' } }],
  },
  GetLocalListVersion: {},
  ClearCache: {},
  CertificateSigned: { certificateChain: '-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----', certificateType: 'ChargingStationCertificate' },
  InstallCertificate: { certificateType: 'CSMSRootCertificate', certificate: '-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----' },
  GetInstalledCertificateIds: { certificateType: ['CSMSRootCertificate'] },
  DeleteCertificate: { certificateHashData: { hashAlgorithm: 'SHA256', issuerNameHash: 'ab12', issuerKeyHash: 'cd34', serialNumber: '1f' } },
};
