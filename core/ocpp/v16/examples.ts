/** A valid sample payload per command, shown in the UI's command form. */
export const commandExamples: Record<string, unknown> = {
  ChangeAvailability: { connectorId: 0, type: 'Inoperative' },
  ChangeConfiguration: { key: 'HeartbeatInterval', value: '300' },
  ClearCache: {},
  DataTransfer: { vendorId: 'com.example', messageId: 'hello', data: '' },
  GetConfiguration: { key: ['HeartbeatInterval', 'MeterValueSampleInterval'] },
  RemoteStartTransaction: { connectorId: 1, idTag: 'ABC123' },
  RemoteStopTransaction: { transactionId: 1 },
  Reset: { type: 'Soft' },
  UnlockConnector: { connectorId: 1 },
  GetDiagnostics: { location: 'http://chargekeeper.local:8080/api/diagnostics/upload' },
  UpdateFirmware: { location: 'http://example.org/firmware.bin', retrieveDate: '2030-01-01T00:00:00Z' },
  GetLocalListVersion: {},
  SendLocalList: { listVersion: 1, updateType: 'Full', localAuthorizationList: [{ idTag: 'ABC123', idTagInfo: { status: 'Accepted' } }] },
  ReserveNow: { connectorId: 1, expiryDate: '2030-01-01T00:30:00Z', idTag: 'ABC123', reservationId: 1 },
  CancelReservation: { reservationId: 1 },
  TriggerMessage: { requestedMessage: 'StatusNotification' },
  SetChargingProfile: {
    connectorId: 1,
    csChargingProfiles: {
      chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute',
      chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }] },
    },
  },
  ClearChargingProfile: { id: 1 },
  GetCompositeSchedule: { connectorId: 1, duration: 3600 },
  SignedUpdateFirmware: {
    requestId: 1,
    firmware: { location: 'http://example.org/firmware.bin', retrieveDateTime: '2030-01-01T00:00:00Z', signingCertificate: '-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----', signature: 'c2lnbmF0dXJl' },
  },
  GetLog: { logType: 'SecurityLog', requestId: 1, log: { remoteLocation: 'http://chargekeeper.local:8080/api/diagnostics/upload' } },
};
