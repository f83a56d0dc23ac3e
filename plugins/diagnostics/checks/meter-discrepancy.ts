import { Type } from '@sinclair/typebox';
import { defineCheck, where } from '../check.js';

interface Reading { meterId: string; energyWh: number; at: string }
interface Session {
  chargerId: string;
  connectorId: number;
  /** Site-meter reading at (or just after) the start, and the latest one. */
  first?: Reading;
  last?: Reading;
}

/** A site meter wired to a connector (connectorId set) or to the whole charger (no connectorId). */
const wiredTo = (e: { chargerId?: string; connectorId?: number }, s: Session) =>
  e.chargerId === s.chargerId && (e.connectorId === undefined || e.connectorId === s.connectorId);

export default defineCheck({
  id: 'meter-discrepancy',
  summary: 'The energy a charger reports for a session differs from its Modbus site meter by more than meterTolerancePct',
  config: {
    meterTolerancePct: Type.Number({ minimum: 0, maximum: 100, default: 3, description: 'Allowed difference between charger and site meter per session, percent of the site meter.' }),
    meterDiscrepancyMinWh: Type.Number({ minimum: 0, default: 500, description: 'Sessions smaller than this are not compared (meter resolution), Wh.' }),
  },
  state: () => ({
    /** Latest site-meter reading per "<chargerId>|<connectorId or *>". */
    latest: new Map<string, Reading>(),
    sessions: new Map<number, Session>(),
  }),
  on: {
    'meter.sampled': (e, cx) => {
      if (e.source !== 'modbus' || !e.chargerId || e.energyImportWh === undefined) return;
      const r: Reading = { meterId: e.meterId ?? 'site meter', energyWh: e.energyImportWh, at: e.at };
      cx.state.latest.set(`${e.chargerId}|${e.connectorId ?? '*'}`, r);
      for (const s of cx.state.sessions.values()) {
        if (!wiredTo(e, s)) continue;
        s.first ??= r;
        s.last = r;
      }
    },
    'session.started': (e, cx) => {
      const r = cx.state.latest.get(`${e.chargerId}|${e.connectorId}`) ?? cx.state.latest.get(`${e.chargerId}|*`);
      cx.state.sessions.set(e.transactionId, { chargerId: e.chargerId, connectorId: e.connectorId, ...(r ? { first: r, last: r } : {}) });
    },
    'session.stopped': async (e, cx) => {
      const s = cx.state.sessions.get(e.transactionId);
      cx.state.sessions.delete(e.transactionId);
      if (!s?.first || !s.last) return;
      const meterWh = s.last.energyWh - s.first.energyWh;
      const chargerWh = e.energyWh;
      // Too little energy to tell a meter's rounding from a fault: no verdict either way.
      if (Math.max(meterWh, chargerWh) < cx.config.meterDiscrepancyMinWh) return;
      const diffPct = ((chargerWh - meterWh) / Math.max(meterWh, 1)) * 100;
      const key = { chargerId: e.chargerId, connectorId: e.connectorId };
      if (Math.abs(diffPct) <= cx.config.meterTolerancePct) {
        await cx.clear(key);
        return;
      }
      const signed = `${diffPct > 0 ? '+' : ''}${diffPct.toFixed(1)} %`;
      await cx.raise({
        ...key, severity: 'warning',
        problem: `${where(e.chargerId, e.connectorId)} counted ${(chargerWh / 1000).toFixed(3)} kWh in session ${e.transactionId}, but site meter ${s.last.meterId} measured ${(meterWh / 1000).toFixed(3)} kWh (${signed}, more than the allowed ${cx.config.meterTolerancePct} %).`,
        cause: diffPct > 0
          ? 'the charger\'s built-in meter counts too much (miscalibrated or faulty), or the site meter misses part of the current (a current transformer on the wrong phase, the wrong way round, or with the wrong ratio)'
          : 'the charger\'s built-in meter counts too little (miscalibrated or faulty), or the site meter also measures other loads on the same circuit',
        action: 'Compare both meters\' readings by hand during a session; check the site meter\'s wiring and current transformers; if the charger\'s meter is wrong, its sessions are billed wrong — have it checked or replaced.',
        detail: { transactionId: e.transactionId, chargerWh, meterWh, diffPct: Math.round(diffPct * 10) / 10, meterId: s.last.meterId },
      });
    },
  },
});
