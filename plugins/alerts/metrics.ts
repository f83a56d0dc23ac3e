import type { Severity } from '../../core/events.js';
import type { PluginContext } from '../../core/plugin.js';
import type { AlertsConfig } from './config.js';

const STATES = ['open', 'acknowledged', 'resolved'] as const;
const SEVERITIES: Severity[] = ['info', 'warning', 'critical'];

/**
 * The alerts plugin's Prometheus metrics, read from its own tables at scrape time with one GROUP BY each:
 * alerts by state and severity, and the outbox's notices still to be sent, by configured channel.
 */
export function alertMetrics(ctx: PluginContext<AlertsConfig>, channels: string[]): void {
  const { db } = ctx;
  ctx.core.metrics.gauge({
    name: 'chargekeeper_alerts', help: 'Alerts by state (open, acknowledged, resolved) and severity', labelNames: ['state', 'severity'],
    async collect() {
      const rows = await db('alerts_alerts').select('state', 'severity').count({ n: '*' }).groupBy('state', 'severity') as Array<{ state: string; severity: string; n: number }>;
      this.reset();
      for (const state of STATES) for (const severity of SEVERITIES) this.set({ state, severity }, 0);
      for (const r of rows) {
        if ((STATES as readonly string[]).includes(r.state) && (SEVERITIES as string[]).includes(r.severity)) this.set({ state: r.state, severity: r.severity }, Number(r.n));
      }
    },
  });
  ctx.core.metrics.gauge({
    name: 'chargekeeper_alerts_outbox_backlog', help: 'Notices in the outbox waiting to be sent (new, or failed and to be retried), by channel', labelNames: ['channel'],
    async collect() {
      // The outbox's index (status, next_attempt_at) finds exactly the rows the delivery job will try.
      const rows = await db('alerts_outbox').whereIn('status', ['pending', 'failed']).whereNotNull('next_attempt_at')
        .select('channel').count({ n: '*' }).groupBy('channel') as Array<{ channel: string; n: number }>;
      this.reset();
      for (const channel of channels) this.set({ channel }, 0);
      for (const r of rows) if (channels.includes(r.channel)) this.set({ channel: r.channel }, Number(r.n));
    },
  });
}
