import { defineCheck, where } from '../check.js';

const SUPERSEDED = 'Superseded';

export default defineCheck({
  id: 'superseded-session',
  summary: 'A charger started a session on a connector whose previous session was still open (it forgot it); clears when a session there stops normally',
  config: {},
  state: () => null,
  on: {
    'session.superseded': async (e, cx) => {
      const reading = e.lastReadingAt ? `its last energy reading (${e.meterStopWh} Wh at ${e.lastReadingAt})` : `its start reading (${e.meterStopWh} Wh; it sent no energy readings)`;
      await cx.raise({
        chargerId: e.chargerId, connectorId: e.connectorId, severity: 'warning', since: e.at,
        problem: `${where(e.chargerId, e.connectorId)} started session ${e.byTransactionId} while session ${e.transactionId} was still open there; session ${e.transactionId} was closed as superseded at ${reading}.`,
        cause: 'the charger lost its running session without sending StopTransaction: a power cut, a hard reset or a firmware update during charging, or a charger that does not keep its transactions across a reboot',
        action: `Check session ${e.transactionId}'s energy and bill (the energy after the last reading is unknown), and whether the charger lost power; a charger that does this often needs a firmware update or a UPS.`,
        detail: { transactionId: e.transactionId, byTransactionId: e.byTransactionId, meterStopWh: e.meterStopWh },
      });
    },
    'session.stopped': async (e, cx) => {
      if (e.reason === SUPERSEDED) return;
      await cx.clear({ chargerId: e.chargerId, connectorId: e.connectorId });
    },
  },
});
