import { Duration } from '../../../core/schema.js';
import { defineCheck } from '../check.js';

export default defineCheck({
  id: 'unresponsive',
  summary: 'A connected charger that answers none of the maintenance probe\'s calls in time; clears when a probe gets an answer (re-probed soon after it reboots)',
  config: {
    probeTimeout: Duration({ default: '30s', description: 'How long each probe call waits for the charger\'s reply, like 30s.' }),
  },
  state: () => null,
  on: {
    // A restart often cures a hung charger: check again soon rather than at the next scheduled probe.
    'charger.booted': (e, cx) => {
      if (cx.active().some((f) => f.chargerId === e.chargerId)) cx.probeSoon(e.chargerId);
    },
  },
  async probed(result, cx) {
    if (result.outcome === 'offline') return;
    if (result.outcome !== 'unresponsive') {
      await cx.clear({ chargerId: result.chargerId });
      return;
    }
    const first = result.steps[0];
    await cx.raise({
      chargerId: result.chargerId, severity: 'critical', since: result.startedAt,
      problem: `Charger ${result.chargerId} is connected but did not answer the maintenance probe (${first?.action ?? 'its first call'} got no reply within ${cx.config.probeTimeout / 1000} s).`,
      cause: 'the charger\'s OCPP software is hung or overloaded while its connection stays open, or a very slow mobile link drops the replies',
      action: 'Remote start/stop and configuration changes will not work now. Restart the charger (Reset Hard, or power-cycle it at its breaker); if it happens again, update its firmware and check the mobile signal.',
      detail: { probeId: result.id },
    });
  },
});
