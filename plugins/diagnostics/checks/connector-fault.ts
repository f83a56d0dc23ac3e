import type { CheckContext } from '../check.js';
import { defineCheck, where } from '../check.js';
import { explain } from '../error-codes.js';

interface ConnectorReport {
  chargerId: string;
  connectorId: number;
  status: string;
  errorCode: string;
  info: string | null;
  vendorErrorCode: string | null;
  /** When the charger says the status began. */
  at: string;
}

/** One finding per connector and error code: a new code clears the old one, NoError clears all. */
async function evaluate(r: ConnectorReport, cx: CheckContext<unknown, unknown>, atStart = false): Promise<void> {
  const faulted = r.status === 'Faulted';
  const hasCode = r.errorCode && r.errorCode !== 'NoError';
  await cx.clearWhere((f) => f.chargerId === r.chargerId && f.connectorId === r.connectorId
    && (!(faulted || hasCode) || f.subKey !== r.errorCode));
  if (!faulted && !hasCode) return;
  // At start a stored status is not a new report: keep the finding as it is.
  if (atStart && cx.active().some((f) => f.chargerId === r.chargerId && f.connectorId === r.connectorId && f.subKey === r.errorCode)) return;
  const e = explain(r.errorCode);
  const vendor = [r.vendorErrorCode ? `vendor error code ${r.vendorErrorCode}` : '', r.info ? `info "${r.info}"` : ''].filter(Boolean).join(', ');
  const named = `${e.label} (${r.errorCode}${vendor ? `; ${vendor}` : ''})`;
  await cx.raise({
    chargerId: r.chargerId, connectorId: r.connectorId, subKey: r.errorCode, since: r.at,
    severity: faulted ? e.severity : 'warning',
    problem: faulted
      ? `${where(r.chargerId, r.connectorId)} is faulted: ${named}.`
      : `${where(r.chargerId, r.connectorId)} reports ${named} while ${r.status}; it can still be used, but the problem may get worse.`,
    cause: r.errorCode === 'OtherError' && vendor ? `${e.cause} (${vendor})` : e.cause,
    action: e.action,
    detail: { status: r.status, errorCode: r.errorCode, vendorErrorCode: r.vendorErrorCode, info: r.info },
  });
}

export default defineCheck({
  id: 'connector-fault',
  summary: 'A connector reports Faulted (critical or warning by error code), or another status with an error code (warning); every error code OCPP defines explained',
  config: {},
  state: () => null,
  on: {
    'connector.status': (e, cx) => evaluate({
      chargerId: e.chargerId, connectorId: e.connectorId, status: e.status, errorCode: e.errorCode,
      info: e.info, vendorErrorCode: e.vendorErrorCode, at: e.chargerTime,
    }, cx as CheckContext<unknown, unknown>),
  },
  async start(cx) {
    // The connectors table holds each connector's latest status, including ones sent while this plugin was off.
    const seen = new Set<string>();
    for (const c of await cx.core.chargers.connectors()) {
      seen.add(`${c.chargerId}|${c.connectorId}`);
      await evaluate({
        chargerId: c.chargerId, connectorId: c.connectorId, status: c.status, errorCode: c.errorCode ?? 'NoError', info: c.info,
        vendorErrorCode: c.vendorErrorCode, at: c.since,
      }, cx as CheckContext<unknown, unknown>, true);
    }
    await cx.clearWhere((f) => !seen.has(`${f.chargerId}|${f.connectorId}`));
  },
});
