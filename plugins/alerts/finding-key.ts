import type { Finding } from '../../core/events.js';

/**
 * The alert key of a diagnostics finding: one alert per check, charger and
 * connector, e.g. "finding:connector-fault:CP1:1".
 *
 * The finding's subKey (an error code, a meter id, a transaction id) is left
 * out on purpose: an operator is sent to a place, not to each reason the
 * check found there, so a new GroundFailure after an OtherError on the same
 * connector updates the open alert instead of notifying again. The Finding
 * event does not carry subKey for that reason. Alerts already stored keep
 * these keys, so adding the subKey would also leave their open alerts
 * without a finding to clear them.
 *
 * Where one check keeps several findings open at one place (two meters
 * unreachable at once: no charger, no connector), they share the alert; the
 * newest finding's clear resolves it, and clears of older ones are ignored.
 */
export const findingKey = (f: Pick<Finding, 'check' | 'chargerId' | 'connectorId'>): string =>
  `finding:${f.check}:${f.chargerId ?? ''}:${f.connectorId ?? ''}`;
