import { defineCheck, type CheckContext } from '../check.js';

interface Session {
  chargerId: string;
  connectorId: number;
  meterStartWh: number;
  /** Highest register value seen in the session, Wh. */
  highWh: number;
  /** Time of the latest reading, ISO (charger clock). */
  lastAt: string;
  regressed: boolean;
}

// Chargers round readings; a drop smaller than this is noise.
const TOLERANCE_WH = 1;

async function regress(cx: CheckContext<unknown, { sessions: Map<number, Session> }>, txId: number, s: Session, toWh: number): Promise<void> {
  s.regressed = true;
  const reset = toWh < s.meterStartWh || toWh < 0.05 * s.highWh;
  await cx.raise({
    chargerId: s.chargerId, connectorId: s.connectorId, severity: 'critical',
    problem: `The energy register of connector ${s.connectorId} of ${s.chargerId} went backwards during session ${txId}: from ${(s.highWh / 1000).toFixed(3)} kWh to ${(toWh / 1000).toFixed(3)} kWh.`,
    cause: reset
      ? 'the meter was reset or replaced in the middle of the session (the charger or its meter rebooted, or a firmware bug restarts the count)'
      : 'a faulty meter, or the charger mixing up readings of different meters or connectors',
    action: 'The energy (and bill) of this session is wrong: correct it from the highest reading. Check the charger\'s meter and update its firmware; compare with a site meter if there is one. The finding clears after a session with steadily rising readings.',
    detail: { transactionId: txId, fromWh: s.highWh, toWh },
  });
}

export default defineCheck({
  id: 'meter-regression',
  summary: 'The energy register of a connector goes backwards or resets during a session; clears after a clean session',
  config: {},
  state: () => ({ sessions: new Map<number, Session>() }),
  on: {
    'session.started': (e, cx) => {
      cx.state.sessions.set(e.transactionId, {
        chargerId: e.chargerId, connectorId: e.connectorId, meterStartWh: e.meterStartWh, highWh: e.meterStartWh, lastAt: e.startedAt, regressed: false,
      });
    },
    'meter.sampled': async (e, cx) => {
      if (e.source !== 'ocpp' || !e.chargerId || e.energyImportWh === undefined) return;
      let txId = e.transactionId;
      if (txId === undefined) {
        for (const [id, s] of cx.state.sessions) if (s.chargerId === e.chargerId && s.connectorId === e.connectorId) txId = id;
      }
      const s = txId === undefined ? undefined : cx.state.sessions.get(txId);
      if (!s || txId === undefined) return;
      // A reading sent late (queued while offline) is compared with nothing newer.
      if (e.at < s.lastAt) return;
      s.lastAt = e.at;
      if (e.energyImportWh < s.highWh - TOLERANCE_WH) await regress(cx, txId, s, e.energyImportWh);
      s.highWh = Math.max(s.highWh, e.energyImportWh);
    },
    'session.stopped': async (e, cx) => {
      const s = cx.state.sessions.get(e.transactionId) ?? {
        chargerId: e.chargerId, connectorId: e.connectorId, meterStartWh: e.meterStartWh, highWh: e.meterStartWh, lastAt: e.startedAt, regressed: false,
      };
      cx.state.sessions.delete(e.transactionId);
      if (e.meterStopWh < s.highWh - TOLERANCE_WH) await regress(cx, e.transactionId, s, e.meterStopWh);
      else if (!s.regressed) await cx.clear({ chargerId: e.chargerId, connectorId: e.connectorId });
    },
  },
  async start(cx) {
    // Every location, as this check has always read them back (its live samples are car-side only).
    for (const t of await cx.core.transactions.open()) {
      const high = await cx.core.readings.energyHigh(t.id);
      cx.state.sessions.set(t.id, {
        chargerId: t.chargerId, connectorId: t.connectorId, meterStartWh: t.meterStartWh,
        highWh: Math.max(t.meterStartWh, high.wh ?? 0), lastAt: high.at ?? t.startedAt, regressed: false,
      });
    }
  },
});
