import { Type } from '@sinclair/typebox';
import { Duration, Strict } from '../../../core/schema.js';
import { defineCheck, minutes, type CheckContext } from '../check.js';

interface BootLoopConfig { bootLoop: { count: number; within: number } }

/** Boots of a charger in the last `within` ms, from the core's boot history (so restarts lose nothing). */
async function recentBoots(cx: CheckContext<BootLoopConfig, unknown>, chargerId: string | null): Promise<Map<string, { count: number; first: string; last: string }>> {
  const fromIso = new Date(cx.now() - cx.config.bootLoop.within).toISOString();
  return cx.core.history.bootsSince(fromIso, chargerId);
}

export default defineCheck({
  id: 'boot-loop',
  summary: 'A charger that booted bootLoop.count times within bootLoop.within; clears after a whole window without a boot',
  config: {
    bootLoop: Strict({
      count: Type.Integer({ minimum: 2, default: 5, description: 'Boots within `within` that make a charger boot-looping.' }),
      within: Duration({ default: '10m', description: 'Time window the boots are counted over, like 10m.' }),
    }, { default: {}, description: 'A charger that keeps restarting.' }),
  },
  state: () => null,
  on: {
    'charger.booted': async (e, cx) => {
      const boots = (await recentBoots(cx, e.chargerId)).get(e.chargerId);
      if (!boots || boots.count < cx.config.bootLoop.count) return;
      await cx.raise({
        chargerId: e.chargerId, severity: 'critical', since: boots.first,
        problem: `Charger ${e.chargerId} keeps restarting: ${cx.config.bootLoop.count} or more boots within ${minutes(cx.config.bootLoop.within)}.`,
        cause: 'an unstable power supply (a breaker, contactor or load manager switching it off and on), a firmware crash or watchdog reset loop, or a setting the charger cannot handle',
        action: 'Check the supply at the charger (loose terminals, a tripping breaker, load-management relays); collect its diagnostics log to see why it resets; if it started after a firmware or configuration change, roll that back.',
        detail: { bootsInWindow: boots.count, lastBootAt: boots.last },
      });
    },
  },
  async tick(cx) {
    const active = cx.active();
    if (!active.length) return;
    const boots = await recentBoots(cx, null);
    // No boot for a whole window: the charger has settled.
    await cx.clearWhere((f) => f.chargerId !== null && !boots.has(f.chargerId));
  },
});
