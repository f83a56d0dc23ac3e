import { Duration } from '../../../core/schema.js';
import { defineCheck, minutes } from '../check.js';

interface OpenSession { chargerId: string; connectorId: number; startedAt: string; lastValueMs: number }

export default defineCheck({
  id: 'stuck-transaction',
  summary: 'A session that is open but has sent no meter values for stuckTransactionAfter (only while its charger is online)',
  config: {
    stuckTransactionAfter: Duration({ default: '15m', description: 'An open session with no meter values this long raises a finding, like 15m.' }),
  },
  state: () => ({ sessions: new Map<number, OpenSession>() }),
  on: {
    'session.started': (e, cx) => {
      cx.state.sessions.set(e.transactionId, { chargerId: e.chargerId, connectorId: e.connectorId, startedAt: e.startedAt, lastValueMs: cx.now() });
      cx.wakeAt(String(e.transactionId), cx.now() + cx.config.stuckTransactionAfter);
    },
    'meter.sampled': async (e, cx) => {
      if (e.source !== 'ocpp' || !e.chargerId) return;
      let txId = e.transactionId;
      if (txId === undefined) {
        for (const [id, s] of cx.state.sessions) if (s.chargerId === e.chargerId && s.connectorId === e.connectorId) txId = id;
      }
      const s = txId === undefined ? undefined : cx.state.sessions.get(txId);
      if (!s || txId === undefined) return;
      s.lastValueMs = cx.now();
      cx.wakeAt(String(txId), s.lastValueMs + cx.config.stuckTransactionAfter);
      await cx.clear({ chargerId: s.chargerId, connectorId: s.connectorId, subKey: String(txId) });
    },
    'session.stopped': async (e, cx) => {
      cx.state.sessions.delete(e.transactionId);
      await cx.clear({ chargerId: e.chargerId, connectorId: e.connectorId, subKey: String(e.transactionId) });
    },
  },
  async start(cx) {
    for (const t of await cx.core.transactions.open()) {
      const last = await cx.core.readings.lastAt(t.id);
      const lastMs = Math.max(Date.parse(t.receivedAt) || 0, last ? Date.parse(last) : 0);
      cx.state.sessions.set(t.id, { chargerId: t.chargerId, connectorId: t.connectorId, startedAt: t.startedAt, lastValueMs: lastMs });
      cx.wakeAt(String(t.id), lastMs + cx.config.stuckTransactionAfter);
    }
    // Sessions stopped while the plugin was not running.
    await cx.clearWhere((f) => !cx.state.sessions.has(Number(f.subKey)));
  },
  async tick(cx) {
    const now = cx.now();
    for (const [txId, s] of cx.state.sessions) {
      // An offline charger queues its meter values; the offline check already speaks for it.
      if (!cx.core.chargers.isOnline(s.chargerId)) continue;
      const quietMs = now - s.lastValueMs;
      if (quietMs < cx.config.stuckTransactionAfter) continue;
      await cx.raise({
        chargerId: s.chargerId, connectorId: s.connectorId, subKey: String(txId), severity: 'warning',
        since: new Date(s.lastValueMs).toISOString(),
        problem: `Session ${txId} on connector ${s.connectorId} of ${s.chargerId} (started ${s.startedAt}) has sent no meter values for over ${minutes(cx.config.stuckTransactionAfter)}.`,
        cause: 'the charger lost track of the session (it rebooted or lost power without sending StopTransaction), or periodic meter values are switched off (MeterValueSampleInterval = 0)',
        action: 'Check whether a car is still plugged in; if not, stop the session remotely (Stop on the charger page) or reset the charger. Run diagnostics on the charger to see its MeterValueSampleInterval and set it to 60–300 s.',
        detail: { transactionId: txId, lastMeterValueAt: new Date(s.lastValueMs).toISOString() },
      });
    }
  },
});
