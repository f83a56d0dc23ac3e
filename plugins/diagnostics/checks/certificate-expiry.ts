import type { CertificateView } from '../../../core/certificates/service.js';
import { Duration } from '../../../core/schema.js';
import { type CheckContext, defineCheck } from '../check.js';

const DAY = 86_400_000;

interface Config { certificateWarnBefore: number; certificateCriticalBefore: number }

const subKeyOf = (c: CertificateView) => `expiry:${c.use}`;
const nameOf = (c: CertificateView) => (c.chargerId === null ? 'The server certificate (http.tls)' : `The ${c.use === 'v2g' ? 'V2G' : 'charger'} certificate of ${c.chargerId}`);

/** Raises, escalates and clears the expiry findings against the certificates the core has now. */
async function evaluate(cx: CheckContext<Config, unknown>): Promise<void> {
  const now = cx.now();
  const { certificateWarnBefore: warn, certificateCriticalBefore: critical } = cx.config;
  const current = await cx.core.certificates.current();
  const seen = new Set<string>();
  for (const c of current) {
    const key = { chargerId: c.chargerId, subKey: subKeyOf(c) };
    seen.add(`${c.chargerId ?? ''}|${key.subKey}`);
    const endMs = Date.parse(c.notAfter);
    const leftMs = endMs - now;
    if (leftMs > warn) {
      await cx.clear(key);
      // Woken when it crosses the warning line, not only at the next evaluation.
      cx.wakeAt(`${c.chargerId ?? ''}|${key.subKey}`, endMs - warn);
      continue;
    }
    if (leftMs > critical) cx.wakeAt(`${c.chargerId ?? ''}|${key.subKey}`, endMs - critical);
    const days = Math.max(0, Math.floor(leftMs / DAY));
    const server = c.chargerId === null;
    await cx.raise({
      ...key, severity: leftMs <= critical ? 'critical' : 'warning',
      problem: leftMs <= 0 ? `${nameOf(c)} expired on ${c.notAfter.slice(0, 10)}.` : `${nameOf(c)} expires in ${days} day${days === 1 ? '' : 's'} (${c.notAfter.slice(0, 10)}).`,
      cause: server
        ? 'the certificate file configured as http.tls.cert has not been renewed; chargers and browsers refuse an expired one'
        : 'the charger has not asked for a new certificate; once it expires, the charger cannot connect with security profile 3',
      action: server
        ? 'Renew the server certificate (or its automatic renewal), replace the file and restart the appliance.'
        : 'Ask the charger for a new certificate (POST /api/chargers/<id>/certificates/renew); if it does not send one, check its clock and its certificate settings.',
      detail: { serial: c.serial, notAfter: c.notAfter, daysLeft: days },
    });
  }
  // A charger that was removed, or a server certificate no longer configured, is nobody's problem.
  await cx.clearWhere((f) => f.subKey.startsWith('expiry:') && !seen.has(`${f.chargerId ?? ''}|${f.subKey}`));
}

export default defineCheck({
  id: 'certificate-expiry',
  summary: 'A charger certificate the site CA issued, or the server certificate, expires within certificateWarnBefore (critical within certificateCriticalBefore); a charger asked for a certificate in another name; clears on renewal',
  config: {
    certificateWarnBefore: Duration({ default: '30d', description: 'Warn this long before a charger or server certificate expires, like 30d.' }),
    certificateCriticalBefore: Duration({ default: '7d', description: 'Critical this long before it expires, like 7d.' }),
  },
  state: () => null,
  on: {
    'certificate.issued': async (e, cx) => {
      await cx.clear({ chargerId: e.chargerId, subKey: 'request' });
      await evaluate(cx);
    },
    'certificate.rejected': async (e, cx) => {
      await cx.raise({
        chargerId: e.chargerId, subKey: 'request', severity: 'warning', since: e.at,
        problem: `Charger ${e.chargerId} asked for a certificate that is not its own and was refused (${e.reason}).`,
        cause: 'its certificate settings name another charger id or organisation (a copied configuration), or someone uses its connection to obtain a certificate for another charger',
        action: 'Check the charger\'s identity and organisation settings; if they are right, check who has access to it and its password.',
        detail: { reason: e.reason },
      });
    },
  },
  start: evaluate,
  tick: evaluate,
});
