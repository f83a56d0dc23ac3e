import type { AlertView, Notice, NoticeKind } from './channels/channel.js';
import { signAck } from './ack-link.js';
import type { Runtime } from './store.js';
import { formatLocal, formatSpan } from './time.js';

/** Short words for what is wrong, by alert kind; unknown kinds read as their id. */
const WHAT: Record<string, string> = {
  'offline': 'is offline',
  'connector-fault': 'reports a connector fault',
  'boot-loop': 'keeps rebooting',
  'flapping': 'keeps dropping off the network and coming back (flapping)',
  'stuck-transaction': 'has a stuck charging session',
  'energy-stall': 'is charging but delivers no energy',
  'meter-regression': 'reports an energy meter going backwards',
  'meter-discrepancy': 'disagrees with its Modbus meter',
  'meter-unreachable': 'has an unreachable meter',
  'firmware-failed': 'failed a firmware update',
  'clock-drift': 'has a wrong clock',
  'suspended-ev': 'has a car that stopped taking charge',
  'unresponsive': 'does not answer commands',
  'charger-rejected': 'was refused at connection',
  'charger-pending': 'is new and waits for approval',
  'plugin-failed': 'has a failing plugin',
  'power-outage': 'may have a power or network outage (several chargers offline at once)',
};

/** What to do when the finding did not say. */
const ACTION: Record<string, string> = {
  'offline': 'Check the charger\'s power supply (breaker, RCD) and its network cable or Wi-Fi; it reconnects by itself once reachable.',
  'power-outage': 'Check the site\'s main power (breakers, RCDs) and the network switch or router the chargers use; they reconnect by themselves when power is back.',
  'charger-rejected': 'If this charger is yours, check its id and password (Chargers page); if not, someone tried to connect and you can ignore this.',
  'charger-pending': 'If this charger is yours, approve it on its Chargers page.',
  'plugin-failed': 'Look at the appliance log for the plugin\'s error; restart the appliance if it persists.',
};

/** Reads after the charger or site: "Charger CP1 is offline", "Charger CP1: clock drift". */
export function whatLabel(kind: string): string {
  return WHAT[kind] ?? `: ${kind.replace(/-/g, ' ')}`;
}

/** "CP1 (Garage), connector 2": the charger, its name when it has its own, and the connector when there is one (0 = the whole charger). */
export function chargerPlace(chargerId: string, name: string | null | undefined, connectorId?: number | null): string {
  return `${chargerId}${name && name !== chargerId ? ` (${name})` : ''}${connectorId ? `, connector ${connectorId}` : ''}`;
}

const phrase = (where: string, what: string) => (what.startsWith(':') ? `${where}${what}` : `${where} ${what}`);

/** A subject line is ASCII-safe text for mail headers and push titles. */
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Builds the notice for one outbox row: texts, links, the signed ack link and the JSON payload. */
export async function composeNotice(
  rt: Runtime,
  n: { kind: NoticeKind; key: string; level: number; channel: string; alert: AlertView; members?: string[]; again?: boolean },
): Promise<Notice> {
  const { ctx } = rt;
  const { site, clock } = ctx.core;
  const publicUrl = ctx.core.publicUrl.replace(/\/+$/, '');
  const tz = site.timezone;
  const a = n.alert;
  const charger = a.chargerId ? await ctx.core.chargers.get(a.chargerId).catch(() => null) : null;
  const chargerName = charger?.name ?? null;
  const where = a.chargerId ? `Charger ${chargerPlace(a.chargerId, chargerName, a.connectorId)}` : site.name;
  const link = a.chargerId ? `${publicUrl}/#/chargers/${encodeURIComponent(a.chargerId)}` : `${publicUrl}/#/p/alerts`;
  const ackUrl = n.kind === 'raised' || n.kind === 'repeat'
    ? `${publicUrl}/api/alerts/ack/${signAck(rt.secret(), { a: a.id, e: clock.nowMs() + rt.config.ackLinkTtl, c: n.channel })}`
    : null;
  const headline = phrase(where, whatLabel(a.kind));
  const sev = a.severity.toUpperCase();
  const action = a.action ?? ACTION[a.kind] ?? null;

  let subject: string;
  const lines: string[] = [];
  if (n.kind === 'resolved') {
    const took = a.resolvedAt ? formatSpan(Date.parse(a.resolvedAt) - Date.parse(a.since)) : null;
    subject = `[${site.name}] RESOLVED: ${headline}`;
    lines.push(`Resolved: ${headline}.`, '', a.message, '');
    lines.push(`Started: ${formatLocal(a.since, tz)}`);
    if (a.resolvedAt) lines.push(`Resolved: ${formatLocal(a.resolvedAt, tz)}${took ? ` (after ${took})` : ''}`);
    if (a.acknowledgedBy) lines.push(`Acknowledged by: ${a.acknowledgedBy}`);
    lines.push('', `Charger page: ${link}`);
  } else if (n.kind === 'test') {
    subject = `[${site.name}] Test message from ChargeKeeper`;
    lines.push(`This is a test of the alert channel "${n.channel}" of ${site.name}.`, 'If you can read it, alerts will reach you here.', '', `Sent: ${formatLocal(clock.iso(), tz)}`, `Alerts page: ${link}`);
  } else {
    const prefix = n.kind === 'repeat' ? 'STILL OPEN' : n.again ? `${sev} (again)` : sev;
    subject = `[${site.name}] ${prefix}: ${headline}`;
    lines.push(`${headline}.`, '', a.message, '');
    lines.push(`Severity: ${a.severity}`);
    lines.push(`Since: ${formatLocal(a.since, tz)}`);
    if (a.count > 1) lines.push(`Raised ${a.count} times (flapping or repeating).`);
    if (n.members?.length) lines.push(`Chargers: ${n.members.join(', ')}`);
    if (action) lines.push('', `What to do: ${action}`);
    lines.push('', `Charger page: ${link}`);
    if (ackUrl) lines.push(`Acknowledge (stops escalation): ${ackUrl}`);
  }
  lines.push('', `Alert #${a.id} (${a.kind}) - ChargeKeeper, ${site.name}`);

  const short = oneLine(
    n.kind === 'resolved' ? `RESOLVED: ${headline}.`
      : n.kind === 'test' ? `ChargeKeeper test message for ${site.name}.`
        : `${sev}: ${headline} since ${formatLocal(a.since, tz).replace(/ \(.*\)$/, '')}.`,
  ).slice(0, 140) + (ackUrl ? ` Ack: ${ackUrl}` : '');

  const hasProblem = a.chargerId
    ? Boolean(await ctx.db('alerts_alerts').where({ charger_id: a.chargerId }).whereNot({ state: 'resolved' }).first('id'))
    : n.kind !== 'resolved';

  return {
    kind: n.kind, key: n.key, level: n.level, alert: a, chargerName,
    subject: oneLine(subject), text: lines.join('\n'), short, link, ackUrl, chargerHasProblem: hasProblem,
    payload: {
      id: a.id, severity: a.severity, kind: a.kind, chargerId: a.chargerId, chargerName, connectorId: a.connectorId,
      message: a.message, action, state: a.state, raisedAt: a.raisedAt, since: a.since,
      acknowledgedAt: a.acknowledgedAt, acknowledgedBy: a.acknowledgedBy, resolvedAt: a.resolvedAt,
      notice: n.kind, level: n.level, title: oneLine(subject), link, ackUrl, site: site.name, key: n.key,
      ...(n.members ? { chargers: n.members } : {}),
    },
  };
}
