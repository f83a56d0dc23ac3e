import { ENERGY_REGISTER } from '../../../core/readings.js';
import { Duration } from '../../../core/schema.js';
import { defineCheck, minutes, where } from '../check.js';

interface Watch {
  chargerId: string;
  connectorId: number;
  charging: boolean;
  /** Server time the register last went up (or Charging began), ms. */
  lastRiseMs: number;
  lastEnergyWh?: number;
  lastPowerW?: number;
  /** Readings received since Charging began: a stall needs at least one. */
  samples: number;
}

const keyOf = (chargerId: string, connectorId: number) => `${chargerId}|${connectorId}`;

export default defineCheck({
  id: 'energy-stall',
  summary: 'A connector that reports Charging while its energy register does not rise for energyStallAfter',
  config: {
    energyStallAfter: Duration({ default: '10m', description: 'A connector reporting Charging whose energy register does not rise this long raises a finding.' }),
  },
  state: () => ({ watches: new Map<string, Watch>() }),
  on: {
    'connector.status': async (e, cx) => {
      const k = keyOf(e.chargerId, e.connectorId);
      const w = cx.state.watches.get(k) ?? { chargerId: e.chargerId, connectorId: e.connectorId, charging: false, lastRiseMs: cx.now(), samples: 0 };
      cx.state.watches.set(k, w);
      if (e.status === 'Charging') {
        if (!w.charging) Object.assign(w, { charging: true, lastRiseMs: cx.now(), samples: 0 });
        return;
      }
      w.charging = false;
      await cx.clear({ chargerId: e.chargerId, connectorId: e.connectorId });
    },
    'meter.sampled': async (e, cx) => {
      if (e.source !== 'ocpp' || !e.chargerId || e.connectorId === undefined || e.energyImportWh === undefined) return;
      const k = keyOf(e.chargerId, e.connectorId);
      const w = cx.state.watches.get(k) ?? { chargerId: e.chargerId, connectorId: e.connectorId, charging: false, lastRiseMs: cx.now(), samples: 0 };
      cx.state.watches.set(k, w);
      const rose = w.lastEnergyWh !== undefined && e.energyImportWh > w.lastEnergyWh;
      w.lastEnergyWh = e.energyImportWh;
      if (e.powerW !== undefined) w.lastPowerW = e.powerW;
      if (w.charging) w.samples += 1;
      if (rose) w.lastRiseMs = cx.now();
      // A stall is known to be due energyStallAfter after the last rise (once a reading has come in).
      if (w.charging) cx.wakeAt(k, w.lastRiseMs + cx.config.energyStallAfter);
      if (rose) await cx.clear({ chargerId: e.chargerId, connectorId: e.connectorId });
    },
  },
  async start(cx) {
    for (const c of await cx.core.chargers.connectors({ status: 'Charging' })) {
      const tx = await cx.core.transactions.openOn(c.chargerId, c.connectorId);
      const [last] = tx ? await cx.core.readings.ofSession(tx.id, { measurands: [ENERGY_REGISTER], totalsOnly: true, latest: 1 }) : [];
      cx.state.watches.set(keyOf(c.chargerId, c.connectorId), {
        chargerId: c.chargerId, connectorId: c.connectorId, charging: true, lastRiseMs: cx.now(),
        samples: 0, ...(last ? { lastEnergyWh: last.value } : {}),
      });
    }
    await cx.clearWhere((f) => !cx.state.watches.get(keyOf(f.chargerId ?? '', f.connectorId ?? -1))?.charging);
  },
  async tick(cx) {
    const now = cx.now();
    for (const w of cx.state.watches.values()) {
      if (!w.charging || w.samples === 0 || !cx.core.chargers.isOnline(w.chargerId)) continue;
      const flatMs = now - w.lastRiseMs;
      if (flatMs < cx.config.energyStallAfter) continue;
      const powered = (w.lastPowerW ?? 0) > 0;
      await cx.raise({
        chargerId: w.chargerId, connectorId: w.connectorId, severity: 'warning', since: new Date(w.lastRiseMs).toISOString(),
        problem: `${where(w.chargerId, w.connectorId)} reports Charging, but its energy register has stayed at ${((w.lastEnergyWh ?? 0) / 1000).toFixed(3)} kWh for over ${minutes(cx.config.energyStallAfter)}.`,
        cause: powered
          ? 'the charger says power is flowing but its energy meter does not count it: a faulty or badly wired meter in the charger'
          : 'no energy flows although the charger says Charging: the contactor did not close (stuck relay), the car stopped drawing without the charger noticing, or the charger\'s meter froze',
        action: powered
          ? 'Compare with a site meter if there is one; restart the charger; have the charger\'s meter checked — sessions from this connector may be billed wrong.'
          : 'Check whether the car is actually charging (car display/app); stop and restart the session; if the car never receives power, have the contactor checked.',
        detail: { energyWh: w.lastEnergyWh ?? null, powerW: w.lastPowerW ?? null, flatS: Math.round(flatMs / 1000) },
      });
    }
  },
});
