import { Duration } from '../../../core/schema.js';
import { defineCheck, minutes } from '../check.js';

// Transaction messages may be sent late from the charger's queue, so an old timestamp there proves nothing.
const MAY_BE_QUEUED = new Set(['StartTransaction', 'StopTransaction', 'MeterValues']);

export default defineCheck({
  id: 'clock-drift',
  summary: 'A charger\'s timestamps are further than clockDriftMax from the appliance\'s time',
  config: {
    clockDriftMax: Duration({ default: '5m', description: 'A charger clock this far from server time raises a finding, like 5m.' }),
  },
  state: () => null,
  on: {
    'charger.seen': async (e, cx) => {
      if (!e.chargerTime) return;
      const driftMs = Date.parse(e.chargerTime) - Date.parse(e.at);
      if (Number.isNaN(driftMs)) return;
      if (driftMs < 0 && MAY_BE_QUEUED.has(e.action)) return;
      if (Math.abs(driftMs) <= cx.config.clockDriftMax) {
        await cx.clear({ chargerId: e.chargerId });
        return;
      }
      await cx.raise({
        chargerId: e.chargerId, severity: 'warning',
        problem: `The clock of charger ${e.chargerId} is about ${minutes(Math.abs(driftMs))} ${driftMs > 0 ? 'ahead' : 'behind'} (its ${e.action} said ${e.chargerTime}).`,
        cause: 'the charger does not set its clock from the central system or an NTP server (no internet time, a dead clock battery after a power cut), so session times, meter values and fault times it sends are off',
        action: 'Enable NTP on the charger or let it take the time from the BootNotification/Heartbeat reply (check its time-sync setting); replace the clock battery if the time is lost at every power cut.',
        detail: { driftS: Math.round(driftMs / 1000), action: e.action },
      });
    },
  },
});
