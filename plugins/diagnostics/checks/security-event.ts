import { Duration } from '../../../core/schema.js';
import type { Severity } from '../../../core/events.js';
import { defineCheck } from '../check.js';

/**
 * The security events (OCPP 2.0.1 part 2 appendix, also the 1.6 security whitepaper) an operator should look at;
 * routine ones (a boot, a reset, a firmware or clock change the site made) are only stored with the charger's messages.
 */
const WORTH_A_FINDING: Record<string, { severity: Severity; cause: string; action: string }> = {
  TamperDetectionActivated: {
    severity: 'critical',
    cause: 'the charger\'s enclosure or seal sensor was triggered: someone opened it, or the sensor is faulty',
    action: 'Inspect the charger on site before it is used again; if it was planned work, note it and clear the charger\'s tamper state.',
  },
  SecurityLogWasCleared: {
    severity: 'warning',
    cause: 'the charger\'s security log was erased, by maintenance or by someone covering their tracks',
    action: 'Ask who had access to the charger\'s maintenance interface; collect its logs now.',
  },
  MemoryExhaustion: {
    severity: 'warning',
    cause: 'the charger ran out of memory for its logs or queue; it may drop messages',
    action: 'Collect and clear its logs, and ask the manufacturer about a firmware fix if it comes back.',
  },
  InvalidFirmwareSignature: {
    severity: 'warning',
    cause: 'a firmware file whose signature did not verify was offered to the charger: a corrupt download, the wrong file, or a tampered one',
    action: 'Get the firmware file again from the manufacturer, with its signature, and retry.',
  },
  InvalidFirmwareSigningCertificate: {
    severity: 'warning',
    cause: 'the certificate that signed a firmware file is not trusted by the charger',
    action: 'Use the manufacturer\'s signing certificate for this model, or install its root on the charger.',
  },
  FailedToAuthenticateAtCsms: {
    severity: 'warning',
    cause: 'the charger could not log in to this appliance: a wrong password, a wrong or expired client certificate',
    action: 'Check the charger\'s password or certificate against its settings here (security profile, certificates).',
  },
  InvalidCsmsCertificate: {
    severity: 'warning',
    cause: 'the charger does not trust this appliance\'s server certificate (expired, another name, or a root it lacks)',
    action: 'Install the CA of the server certificate on the charger, or renew the server certificate.',
  },
  InvalidChargingStationCertificate: {
    severity: 'warning',
    cause: 'the charger\'s own certificate is not valid (expired or not matching its key)',
    action: 'Ask the charger for a new certificate (POST /api/chargers/<id>/certificates/renew).',
  },
  InvalidTLSVersion: {
    severity: 'warning',
    cause: 'the charger and the appliance found no TLS version they both allow',
    action: 'Update the charger\'s firmware (TLS 1.2 or later is needed).',
  },
  InvalidTLSCipherSuite: {
    severity: 'warning',
    cause: 'the charger and the appliance found no cipher suite they both allow',
    action: 'Update the charger\'s firmware, or ask the manufacturer which suites it offers.',
  },
  AttemptedReplayAttacks: {
    severity: 'warning',
    cause: 'the charger saw messages replayed on its connection: someone on the network may be interfering',
    action: 'Check the network between the charger and the appliance; use TLS (security profile 2 or 3).',
  },
};

export default defineCheck({
  id: 'security-event',
  summary: 'A charger reports a security event worth a look (tamper, cleared security log, failed login or TLS, bad firmware signature, replay); clears after securityEventQuiet without another',
  config: {
    securityEventQuiet: Duration({ default: '24h', description: 'A security event\'s finding clears after this long without the same event again, like 24h.' }),
  },
  // When each charger last reported each event: repeats within a minute do not rewrite the finding.
  state: () => new Map<string, number>(),
  on: {
    'charger.securityEvent': async (e, cx) => {
      const words = WORTH_A_FINDING[e.type];
      if (!words) return;
      await cx.raise({
        chargerId: e.chargerId, subKey: e.type, severity: words.severity, since: e.at,
        problem: `Charger ${e.chargerId} reported the security event ${e.type}${e.techInfo ? ` (${e.techInfo})` : ''}.`,
        cause: words.cause, action: words.action, detail: { type: e.type, lastAt: e.at, ...(e.techInfo ? { techInfo: e.techInfo } : {}) },
      });
      const key = `${e.chargerId}|${e.type}`;
      cx.state.set(key, Date.parse(e.at));
      cx.wakeAt(key, Date.parse(e.at) + cx.config.securityEventQuiet);
    },
  },
  async tick(cx) {
    const now = cx.now();
    const last = (f: { chargerId: string | null; subKey: string; since: string; detail: Record<string, unknown> }) =>
      cx.state.get(`${f.chargerId}|${f.subKey}`) ?? Date.parse(String(f.detail.lastAt ?? f.since));
    await cx.clearWhere((f) => last(f) + cx.config.securityEventQuiet <= now);
  },
});
