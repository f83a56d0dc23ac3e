import { Type } from '@sinclair/typebox';
import { Duration, Strict } from '../../../core/schema.js';
import { defineCheck, minutes } from '../check.js';

export default defineCheck({
  id: 'flapping',
  summary: 'A charger whose socket closed flapping.count times within flapping.within; clears once it stays connected for a whole window',
  config: {
    flapping: Strict({
      count: Type.Integer({ minimum: 2, default: 3, description: 'Disconnects within `within` that make a charger flapping.' }),
      within: Duration({ default: '30s', description: 'The flap window: disconnects are counted over it, and a flapping charger must stay connected this long to clear.' }),
    }, { default: {}, description: 'A charger whose connection keeps dropping and coming back.' }),
  },
  // Disconnect times (server ms) per charger, newest last; only the window's worth is kept.
  state: () => ({ drops: new Map<string, number[]>(), upSince: new Map<string, number>() }),
  on: {
    'charger.connected': (e, cx) => {
      const now = cx.now();
      cx.state.upSince.set(e.chargerId, now);
      if (cx.active().some((f) => f.chargerId === e.chargerId)) cx.wakeAt(e.chargerId, now + cx.config.flapping.within);
    },
    'charger.disconnected': async (e, cx) => {
      const { count, within } = cx.config.flapping;
      const now = Date.parse(e.at) || cx.now();
      const drops = (cx.state.drops.get(e.chargerId) ?? []).filter((t) => t > now - within);
      drops.push(now);
      cx.state.drops.set(e.chargerId, drops);
      // Cleared at the end of a window without a drop (the tick looks at it then).
      cx.wakeAt(e.chargerId, now + within);
      const flapping = cx.active().some((f) => f.chargerId === e.chargerId);
      if (drops.length < count && !flapping) return;
      const seconds = minutes(within);
      await cx.raise({
        chargerId: e.chargerId, severity: 'warning', since: new Date(drops[0]!).toISOString(),
        problem: `Charger ${e.chargerId} is flapping: ${drops.length} disconnects in ${seconds}.`,
        cause: 'a weak or overloaded network link (Wi-Fi signal, 4G coverage, a failing switch port or cable), or a charger that restarts its connection over and over',
        action: 'Check the charger\'s network link (signal strength, cable, switch port, router logs); if the link is fine, check the charger\'s WebSocketPingInterval and firmware.',
        detail: { disconnects: drops.length, withinS: Math.round(within / 1000) },
      });
    },
  },
  async tick(cx) {
    const now = cx.now();
    const { within } = cx.config.flapping;
    for (const [id, drops] of cx.state.drops) {
      const recent = drops.filter((t) => t > now - within);
      if (recent.length) cx.state.drops.set(id, recent);
      else cx.state.drops.delete(id);
    }
    // Stable for a whole window (connected, no drop): flapping has stopped.
    const stable = (id: string) => !cx.state.drops.has(id) && cx.core.chargers.isOnline(id) && now - (cx.state.upSince.get(id) ?? 0) >= within;
    await cx.clearWhere((f) => f.chargerId !== null && stable(f.chargerId));
  },
});
