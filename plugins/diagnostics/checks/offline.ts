import { Duration } from '../../../core/schema.js';
import { defineCheck, minutes } from '../check.js';

interface Link {
  online: boolean;
  /** Server time the socket opened or closed, ms. */
  sinceMs: number;
  /** Server time of the last message, ms. */
  lastSeenMs: number;
  closeCode?: number;
  closeReason?: string;
}

export default defineCheck({
  id: 'offline',
  summary: 'A charger whose socket has been closed for offlineAfter, or that is connected but silent for silentAfter',
  config: {
    offlineAfter: Duration({ default: '3m', description: 'A charger whose connection has been closed this long is offline, like 3m.' }),
    silentAfter: Duration({ default: '10m', description: 'A connected charger that sends nothing (not even a Heartbeat) this long is offline; keep it above ocpp.heartbeatInterval.' }),
  },
  state: () => ({
    links: new Map<string, Link>(),
    /** When this run of the plugin started: a known charger that has not connected since counts as offline from here. */
    startedMs: 0,
  }),
  on: {
    'charger.connected': async (e, cx) => {
      const now = cx.now();
      cx.state.links.set(e.chargerId, { online: true, sinceMs: now, lastSeenMs: now });
      cx.wakeAt(e.chargerId, now + cx.config.silentAfter);
      await cx.clear({ chargerId: e.chargerId });
    },
    'charger.seen': async (e, cx) => {
      const link = cx.state.links.get(e.chargerId);
      if (link) link.lastSeenMs = cx.now();
      cx.wakeAt(e.chargerId, cx.now() + cx.config.silentAfter);
      // A message from a charger flagged as silent ends that condition.
      if (cx.core.chargers.isOnline(e.chargerId)) await cx.clear({ chargerId: e.chargerId });
    },
    'charger.disconnected': (e, cx) => {
      const prev = cx.state.links.get(e.chargerId);
      const sinceMs = Date.parse(e.at) || cx.now();
      cx.state.links.set(e.chargerId, {
        online: false, sinceMs, lastSeenMs: prev?.lastSeenMs ?? cx.now(),
        closeCode: e.code, closeReason: e.reason,
      });
      // Raised the moment offlineAfter has passed, not at the next evaluation.
      cx.wakeAt(e.chargerId, sinceMs + cx.config.offlineAfter);
    },
  },
  async start(cx) {
    cx.state.startedMs = cx.now();
    // Known chargers that do not connect after a start are offline from then.
    cx.wakeAt('(start)', cx.state.startedMs + cx.config.offlineAfter);
  },
  async tick(cx) {
    const now = cx.now();
    const known = await cx.core.chargers.records();
    const ids = new Set(known.map((c) => c.id));
    // A removed charger is no longer anyone's problem.
    await cx.clearWhere((f) => f.chargerId !== null && !ids.has(f.chargerId));
    for (const c of known) {
      // Chargers waiting for approval are not part of the network yet.
      if (!c.approved) continue;
      const link = cx.state.links.get(c.id);
      if (cx.core.chargers.isOnline(c.id)) {
        const lastSeen = link?.online ? link.lastSeenMs : now;
        if (!link?.online) cx.state.links.set(c.id, { online: true, sinceMs: now, lastSeenMs: now });
        const silentMs = now - lastSeen;
        if (silentMs >= cx.config.silentAfter) {
          await cx.raise({
            chargerId: c.id, severity: 'critical', since: new Date(lastSeen).toISOString(),
            problem: `Charger ${c.id} is connected but has sent nothing for over ${minutes(cx.config.silentAfter)}, not even a Heartbeat.`,
            cause: 'the charger\'s OCPP software has hung while its network connection stays up, or a proxy or NAT keeps a dead connection open',
            action: 'Restart the charger (Reset Hard from the charger page, or power-cycle it at its breaker); if it happens again, update its firmware.',
            detail: { silentS: Math.round(silentMs / 1000), lastSeenAt: new Date(lastSeen).toISOString() },
          });
        }
        continue;
      }
      const sinceMs = link && !link.online ? link.sinceMs : cx.state.startedMs;
      const offlineMs = now - sinceMs;
      if (offlineMs < cx.config.offlineAfter) continue;
      const closed = link && !link.online
        ? `its connection closed ${link.closeCode ? `(code ${link.closeCode}${link.closeReason ? `, ${link.closeReason}` : ''}) ` : ''}and it has not come back for over ${minutes(cx.config.offlineAfter)}`
        : 'it has not connected since the appliance started';
      await cx.raise({
        chargerId: c.id, severity: 'critical', since: new Date(sinceMs).toISOString(),
        problem: `Charger ${c.id} is offline: ${closed}.`,
        cause: 'a power cut at the charger or a tripped breaker, a network outage (router, Wi-Fi, 4G/SIM), or the charger crashed',
        action: 'Check that the charger has power (display, LEDs) and its breaker is on; check the network link (router, Wi-Fi signal, SIM credit); if it has power and network, restart it.',
        detail: { offlineS: Math.round(offlineMs / 1000), closeCode: link?.closeCode ?? null },
      });
    }
  },
});
