import { Duration } from '../../../core/schema.js';
import { defineCheck, minutes, where } from '../check.js';

interface Watch {
  chargerId: string;
  connectorId: number;
  transactionId: number | null;
  meterStartWh: number;
  /** Highest register value seen in the session, Wh. */
  highWh: number;
  status: string;
  /** Server time the connector entered SuspendedEV, ms. */
  suspendedSinceMs: number | null;
}

// Less than this since the start counts as "never drew power" (meters round to tens of Wh).
const NO_POWER_WH = 50;

const keyOf = (chargerId: string, connectorId: number) => `${chargerId}|${connectorId}`;
const blank = (chargerId: string, connectorId: number): Watch => ({
  chargerId, connectorId, transactionId: null, meterStartWh: 0, highWh: 0, status: 'Unknown', suspendedSinceMs: null,
});

export default defineCheck({
  id: 'suspended-ev',
  summary: 'A car is connected in a session but has never drawn power and sits in SuspendedEV for suspendedEvAfter',
  config: {
    suspendedEvAfter: Duration({ default: '15m', description: 'An open session in SuspendedEV that has drawn no energy this long raises a finding, like 15m.' }),
  },
  state: () => ({ watches: new Map<string, Watch>() }),
  on: {
    'session.started': (e, cx) => {
      const k = keyOf(e.chargerId, e.connectorId);
      const w = cx.state.watches.get(k) ?? blank(e.chargerId, e.connectorId);
      Object.assign(w, { transactionId: e.transactionId, meterStartWh: e.meterStartWh, highWh: e.meterStartWh });
      cx.state.watches.set(k, w);
    },
    'meter.sampled': async (e, cx) => {
      if (e.source !== 'ocpp' || !e.chargerId || e.connectorId === undefined || e.energyImportWh === undefined) return;
      const w = cx.state.watches.get(keyOf(e.chargerId, e.connectorId));
      if (!w || w.transactionId === null) return;
      w.highWh = Math.max(w.highWh, e.energyImportWh);
      if (w.highWh - w.meterStartWh >= NO_POWER_WH) await cx.clear({ chargerId: w.chargerId, connectorId: w.connectorId });
    },
    'connector.status': async (e, cx) => {
      const k = keyOf(e.chargerId, e.connectorId);
      const w = cx.state.watches.get(k) ?? blank(e.chargerId, e.connectorId);
      cx.state.watches.set(k, w);
      if (e.status === 'SuspendedEV') {
        if (w.status !== 'SuspendedEV') w.suspendedSinceMs = cx.now();
      } else {
        w.suspendedSinceMs = null;
        await cx.clear({ chargerId: e.chargerId, connectorId: e.connectorId });
      }
      w.status = e.status;
    },
    'session.stopped': async (e, cx) => {
      const w = cx.state.watches.get(keyOf(e.chargerId, e.connectorId));
      if (w) Object.assign(w, { transactionId: null });
      await cx.clear({ chargerId: e.chargerId, connectorId: e.connectorId });
    },
  },
  async start(cx) {
    for (const c of await cx.core.chargers.connectors({ status: 'SuspendedEV' })) {
      const tx = await cx.core.transactions.openOn(c.chargerId, c.connectorId);
      if (!tx) continue;
      const high = await cx.core.readings.energyHigh(tx.id);
      const start = tx.meterStartWh;
      cx.state.watches.set(keyOf(c.chargerId, c.connectorId), {
        chargerId: c.chargerId, connectorId: c.connectorId, transactionId: tx.id,
        meterStartWh: start, highWh: Math.max(start, high.wh ?? 0), status: 'SuspendedEV', suspendedSinceMs: cx.now(),
      });
    }
    await cx.clearWhere((f) => cx.state.watches.get(keyOf(f.chargerId ?? '', f.connectorId ?? -1))?.transactionId == null);
  },
  async tick(cx) {
    const now = cx.now();
    for (const w of cx.state.watches.values()) {
      if (w.transactionId === null || w.status !== 'SuspendedEV' || w.suspendedSinceMs === null) continue;
      if (w.highWh - w.meterStartWh >= NO_POWER_WH) continue;
      if (now - w.suspendedSinceMs < cx.config.suspendedEvAfter) continue;
      await cx.raise({
        chargerId: w.chargerId, connectorId: w.connectorId, severity: 'warning', since: new Date(w.suspendedSinceMs).toISOString(),
        problem: `${where(w.chargerId, w.connectorId)}: a car has been connected in session ${w.transactionId} for over ${minutes(cx.config.suspendedEvAfter)} in SuspendedEV and has never drawn power.`,
        cause: 'the car refuses to charge: its own charge timer or departure schedule, a charge limit already reached, or a communication problem between car and charger over the cable (control pilot), e.g. a damaged cable or plug',
        action: 'Ask the driver to check the car\'s charging settings (timer, charge limit); try another cable or another car on this connector; if no car ever charges here, have the charger\'s pilot circuit checked.',
        detail: { transactionId: w.transactionId },
      });
    }
  },
});
