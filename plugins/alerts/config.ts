import { Type, type StaticDecode } from '@sinclair/typebox';
import type { Severity } from '../../core/events.js';
import { Duration, Strict, decode, type ConfigProblem } from '../../core/schema.js';
import { ChannelCommon, type CommonConfig } from './channels/channel.js';
import { channelTypes } from './channels/index.js';

const SeverityT = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]);
const B64URL = '^[A-Za-z0-9_-]+=*$';
/** HH:MM..HH:MM in the site's time zone; may wrap midnight. */
export const QuietHours = Strict({
  from: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'a time HH:MM' }),
  to: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'a time HH:MM' }),
});
const OneOrMany = Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }))]);

/** Kinds raised from core events rather than findings. */
export const EVENT_KINDS = ['charger-rejected', 'charger-pending', 'plugin-failed'] as const;

const Rule = Strict({
  /** Finding check ids (offline, connector-fault, ...) or event kinds (charger-rejected, charger-pending, plugin-failed); omitted = any. */
  kind: Type.Optional(OneOrMany),
  /** Matches when the finding's (or event's) severity is one of these; omitted = any. */
  severity: Type.Optional(Type.Array(SeverityT)),
  /** Matches these chargers only. */
  chargers: Type.Optional(Type.Array(Type.String())),
  /** Matches the chargers of this group (see groups). */
  group: Type.Optional(Type.String()),
  /** true = matching problems raise no alert. */
  ignore: Type.Boolean({ default: false }),
  /** The alert's severity, when it should differ from the finding's. */
  alertSeverity: Type.Optional(SeverityT),
});

export const AlertsConfigSchema = Strict({
  /** Checked in order, first match decides; the defaults below are checked after yours. */
  rules: Type.Array(Rule, { default: [] }),
  /** Named lists of charger ids, for rules. */
  groups: Type.Record(Type.String(), Type.Array(Type.String()), { default: {} }),
  /** A problem raised again within this long after it resolved re-opens the same alert. */
  flapWindow: Duration({ default: '10m' }),
  /** Wait this long before sending a resolved notice; a flapping alert's waits the flap window. */
  resolveDelay: Duration({ default: '0s' }),
  outage: Strict({
    /** This many chargers offline within `within` make one power-outage alert; 0 turns it off. */
    minChargers: Type.Integer({ minimum: 0, default: 3 }),
    within: Duration({ default: '1m' }),
  }, { default: {} }),
  channels: Type.Array(Type.Object({
    name: Type.String({ minLength: 1 }),
    type: Type.String({ minLength: 1 }),
  }, { additionalProperties: true }), { default: [] }),
  /** On-call people: a name escalation levels may notify, standing for their channels. */
  people: Type.Record(Type.String(), Type.Array(Type.String()), { default: {} }),
  /** Levels notify after their delay unless the alert was acknowledged or resolved. Default: every channel at once. */
  escalation: Type.Optional(Type.Array(Strict({
    after: Duration({ default: '0s' }),
    notify: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  }))),
  /** Repeat the highest level reached this often until acknowledged or resolved. */
  repeat: Type.Optional(Duration()),
  retry: Strict({
    /** First retry delay; doubles on each failure up to `max`. */
    first: Duration({ default: '5s' }),
    max: Duration({ default: '10m' }),
    /** A notice still undelivered after this long is marked failed and no longer retried. */
    giveUpAfter: Duration({ default: '24h' }),
  }, { default: {} }),
  /** How long the signed acknowledgement link in a message stays valid. */
  ackLinkTtl: Duration({ default: '24h' }),
  /** Web Push: the VAPID key pair (generated on first start and kept in the database when not given) and its contact. */
  push: Strict({
    vapidPublicKey: Type.Optional(Type.String({ pattern: B64URL, minLength: 80, maxLength: 100, description: 'VAPID public key, base64url (uncompressed P-256 point)' })),
    vapidPrivateKey: Type.Optional(Type.String({ pattern: B64URL, minLength: 40, maxLength: 50, description: 'VAPID private key, base64url (32 bytes)' })),
    subject: Type.String({ pattern: '^(mailto:|https://)', default: 'mailto:admin@localhost', description: 'VAPID contact the push service may write to (mailto: or https: URL)' }),
    /** PEM file of a CA to trust besides the system's: for a self-hosted push service on a private CA. */
    caFile: Type.Optional(Type.String({ minLength: 1, description: 'a PEM file of an extra CA for a self-hosted push service' })),
  }, { default: {} }),
  /** Notices to drivers' own phones (Web Push): their session, their car, their reservation, their turn, their card. */
  drivers: Strict({
    enabled: Type.Boolean({ default: true }),
    /** A car that stays plugged in without charging this long gets a "please move it"; 0s turns it off. */
    idleAfter: Duration({ default: '15m' }),
    /** The reminder before an unused reservation expires; 0s turns it off. */
    reservationReminder: Duration({ default: '5m' }),
    /** Default quiet hours for drivers who set none (site time); notices wait until they end, or are dropped if moot by then. */
    quietHours: Type.Optional(QuietHours),
    /** How long an undelivered notice is retried before it is given up. */
    giveUpAfter: Duration({ default: '1h' }),
  }, { default: {} }),
}, { default: {} });

export type AlertsConfig = StaticDecode<typeof AlertsConfigSchema>;
export type RuleConfig = AlertsConfig['rules'][number];

/** Applied after the site's own rules. */
export const DEFAULT_RULES: RuleConfig[] = [
  { kind: [...EVENT_KINDS], ignore: false },
  { severity: ['warning', 'critical'], ignore: false },
];

/** The full schema of one channel entry: the common keys plus its type's. */
export function channelSchema(type: string) {
  const t = channelTypes[type];
  if (!t) return undefined;
  return Strict({ ...ChannelCommon, type: Type.Literal(type), ...t.config.properties });
}

/** A channel entry decoded with its type's schema (defaults applied, durations in ms). */
export function decodeChannel(raw: { name: string; type: string }): CommonConfig & Record<string, unknown> {
  const schema = channelSchema(raw.type);
  if (!schema) throw new Error(`unknown channel type ${raw.type}`);
  const { value } = decode<CommonConfig & Record<string, unknown>>(schema, raw);
  if (!value) throw new Error(`channel ${raw.name} is not valid`);
  return value;
}

/** Cross-field checks: channel types and their keys, unique names, escalation targets, groups. */
export function validate(config: AlertsConfig): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  const known = Object.keys(channelTypes);
  const names = new Set<string>();
  config.channels.forEach((ch, i) => {
    if (!channelTypes[ch.type]) {
      found.push({ path: `channels[${i}].type`, message: `expected one of ${known.join(', ')}, got ${JSON.stringify(ch.type)}` });
      return;
    }
    found.push(...decode(channelSchema(ch.type)!, ch, `channels[${i}]`).problems);
    if (names.has(ch.name)) found.push({ path: `channels[${i}].name`, message: `channel name "${ch.name}" is used twice` });
    names.add(ch.name);
  });
  for (const [person, list] of Object.entries(config.people)) {
    if (names.has(person)) found.push({ path: `people.${person}`, message: `"${person}" is already a channel name` });
    list.forEach((name, j) => {
      if (!names.has(name)) found.push({ path: `people.${person}[${j}]`, message: unknownTarget(name, [...names]) });
    });
  }
  const targets = [...names, ...Object.keys(config.people)];
  config.escalation?.forEach((level, i) => {
    level.notify.forEach((name, j) => {
      if (!targets.includes(name)) found.push({ path: `escalation[${i}].notify[${j}]`, message: unknownTarget(name, targets) });
    });
    const prev = config.escalation?.[i - 1];
    if (prev && level.after < prev.after) found.push({ path: `escalation[${i}].after`, message: 'expected a delay not shorter than the level before' });
  });
  if ((config.push.vapidPublicKey === undefined) !== (config.push.vapidPrivateKey === undefined)) {
    const missing = config.push.vapidPublicKey === undefined ? 'vapidPublicKey' : 'vapidPrivateKey';
    found.push({ path: `push.${missing}`, message: 'expected both VAPID keys or neither (neither: generated and kept in the database)' });
  }
  config.rules.forEach((rule, i) => {
    if (rule.group !== undefined && !config.groups[rule.group]) {
      found.push({ path: `rules[${i}].group`, message: `unknown group "${rule.group}"; groups: ${Object.keys(config.groups).join(', ') || '(none)'}` });
    }
  });
  return found;
}

function unknownTarget(name: string, targets: string[]): string {
  return `expected a channel${targets.length ? ` or person: one of ${targets.join(', ')}` : ' (none is configured)'}, got ${JSON.stringify(name)}`;
}

/** The escalation ladder in effect: configured, or every channel at once. */
export function ladder(config: AlertsConfig): Array<{ after: number; channels: Array<{ channel: string; recipient: string | null }> }> {
  const levels = config.escalation ?? (config.channels.length ? [{ after: 0, notify: config.channels.map((c) => c.name) }] : []);
  return levels.map((l) => {
    const out: Array<{ channel: string; recipient: string | null }> = [];
    for (const name of l.notify) {
      const list = config.people[name] ? config.people[name]!.map((channel) => ({ channel, recipient: name })) : [{ channel: name, recipient: null }];
      for (const item of list) if (!out.some((o) => o.channel === item.channel)) out.push(item);
    }
    return { after: l.after, channels: out };
  });
}

/** The alert severity a rule set gives a problem, or null when no alert should be raised. */
export function applyRules(
  config: AlertsConfig,
  problem: { kind: string; severity: Severity; chargerId: string | null },
): Severity | null {
  for (const rule of [...config.rules, ...DEFAULT_RULES]) {
    const kinds = rule.kind === undefined ? undefined : Array.isArray(rule.kind) ? rule.kind : [rule.kind];
    if (kinds && !kinds.includes(problem.kind)) continue;
    if (rule.severity && !rule.severity.includes(problem.severity)) continue;
    if (rule.chargers && !(problem.chargerId && rule.chargers.includes(problem.chargerId))) continue;
    if (rule.group !== undefined && !(problem.chargerId && (config.groups[rule.group] ?? []).includes(problem.chargerId))) continue;
    return rule.ignore ? null : rule.alertSeverity ?? problem.severity;
  }
  return null;
}
