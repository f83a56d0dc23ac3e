import type { Severity } from '../../core/events.js';

/** What an OCPP 1.6 ChargePointErrorCode means to an operator. */
export interface ErrorCodeInfo {
  /** The fault in a few words ("ground fault"). */
  label: string;
  /** The likely cause, in plain words. */
  cause: string;
  /** What to do about it. */
  action: string;
  /** Severity when the connector is Faulted with this code; a non-Faulted status with it is one step lower. */
  severity: Severity;
}

/** Every ChargePointErrorCode of OCPP 1.6 (section 7.6), explained. */
export const errorCodes: Record<string, ErrorCodeInfo> = {
  ConnectorLockFailure: {
    label: 'connector lock failure',
    cause: 'the cable lock could not lock or unlock: a damaged connector or socket, a broken lock actuator, or a plug not pushed fully in',
    action: 'Check that the plug sits fully in the socket and try again; inspect the socket and the lock motor for damage or dirt; if it persists, have the lock actuator replaced.',
    severity: 'critical',
  },
  EVCommunicationError: {
    label: 'communication error with the car',
    cause: 'the charger and the car could not talk over the control pilot: a damaged cable or plug, a wet connector, or a fault in the car (for high-level communication, an ISO 15118 handshake failure)',
    action: 'Try another car or cable to see which side is at fault; inspect the cable, plug and pilot pin; if every car fails, have the charger\'s control board checked.',
    severity: 'warning',
  },
  GroundFailure: {
    label: 'ground fault',
    cause: 'current leaking to earth: a damaged cable or plug, moisture in the connector, or a fault in the car; the residual-current device (RCD) may have tripped',
    action: 'Do not use the connector. Inspect the cable and plug for damage or water and reset the RCD; if it trips again, have an electrician test the installation and the charger.',
    severity: 'critical',
  },
  HighTemperature: {
    label: 'too hot',
    cause: 'the charger or its connector overheated: strong sun, blocked ventilation, a loose or corroded contact in the plug or terminal block, or charging at high current for long',
    action: 'Let it cool down; keep vents free and shade the unit; check the plug contacts and the supply terminals for discoloration (a sign of a loose connection) and have them tightened.',
    severity: 'critical',
  },
  InternalError: {
    label: 'internal error',
    cause: 'a software or hardware fault inside the charger (firmware crash, failed self-test, faulty board)',
    action: 'Restart the charger (Reset Soft, then Hard); if the error returns, update its firmware or contact the manufacturer with the diagnostics log.',
    severity: 'critical',
  },
  LocalListConflict: {
    label: 'local authorization list conflict',
    cause: 'the charger\'s local list of RFID cards disagrees with the central system (a card the server accepted is blocked locally, or the other way round)',
    action: 'Resend the local authorization list from the appliance (SendLocalList Full) and clear the authorization cache (ClearCache).',
    severity: 'warning',
  },
  NoError: {
    label: 'no error code given',
    cause: 'the charger reports a fault without naming it',
    action: 'Look at the charger\'s display or its diagnostics log (collect logs) to find out more.',
    severity: 'warning',
  },
  OtherError: {
    label: 'vendor-specific error',
    cause: 'a fault the OCPP error codes do not cover; the vendor error code and info tell which (look them up in the charger\'s manual)',
    action: 'Look up the vendor error code in the manufacturer\'s documentation; collect the diagnostics log and contact the manufacturer if it is unclear.',
    severity: 'warning',
  },
  OverCurrentFailure: {
    label: 'over-current',
    cause: 'the car drew more current than allowed: a fault in the car\'s on-board charger, a short circuit in the cable, or a wrong current limit in the charger',
    action: 'Try another car to see whether it follows the car; inspect the cable for damage; check the charger\'s configured maximum current against the supply fuse.',
    severity: 'critical',
  },
  OverVoltage: {
    label: 'over-voltage',
    cause: 'the mains voltage is too high: a grid problem, a lost neutral in the installation, or many solar inverters feeding in nearby',
    action: 'Measure the supply voltage on every phase; if it is out of range, or a neutral fault is suspected, call an electrician or the grid operator at once.',
    severity: 'critical',
  },
  PowerMeterFailure: {
    label: 'power meter failure',
    cause: 'the charger cannot read its built-in energy meter: a failed meter, a loose meter bus cable, or a meter firmware problem',
    action: 'Restart the charger; check the wiring between charger and meter; until fixed, energy (and bills) from this connector are not reliable.',
    severity: 'critical',
  },
  PowerSwitchFailure: {
    label: 'power switch (relay/contactor) failure',
    cause: 'the contactor or relay did not switch: a stuck or welded relay contact, or a failed relay coil or driver',
    action: 'Take the connector out of service; a welded contactor can leave the plug live. Have the contactor checked and replaced by an electrician.',
    severity: 'critical',
  },
  ReaderFailure: {
    label: 'RFID reader failure',
    cause: 'the card reader does not work: a faulty reader, a loose cable to it, or damage to the front panel',
    action: 'Let drivers start by app or remote start meanwhile; restart the charger; if the reader stays dead, have it replaced.',
    severity: 'warning',
  },
  ResetFailure: {
    label: 'reset failure',
    cause: 'the charger could not carry out a requested reset: a firmware hang or an ongoing operation blocking it',
    action: 'Try a Hard reset; if that fails too, power-cycle the charger at its breaker.',
    severity: 'warning',
  },
  UnderVoltage: {
    label: 'under-voltage',
    cause: 'the mains voltage is too low: an overloaded supply, a long or undersized cable, a loose connection, or a missing phase',
    action: 'Measure the supply voltage on every phase at the charger; check the breaker and terminals for loose connections; call an electrician if it is out of range.',
    severity: 'critical',
  },
  WeakSignal: {
    label: 'weak wireless signal',
    cause: 'the mobile (4G/LTE) or Wi-Fi signal at the charger is weak, so messages get lost and the charger may drop offline',
    action: 'Move or add an external antenna, move the Wi-Fi access point closer, or connect the charger by Ethernet.',
    severity: 'warning',
  },
};

/** An unknown code (a newer OCPP version, a typo): explained generically. */
export function explain(code: string): ErrorCodeInfo {
  return errorCodes[code] ?? {
    label: `error "${code}"`,
    cause: `the charger reported an error code this appliance does not know ("${code}")`,
    action: 'Look the code up in the charger\'s manual and collect its diagnostics log.',
    severity: 'warning',
  };
}
