import { Type, type StaticDecode } from '@sinclair/typebox';
import type { Severity } from '../../core/events.js';
import { Duration, Strict, decode, type ConfigProblem } from '../../core/schema.js';
import { ChannelCommon, type CommonConfig } from './channels/channel.js';
import { channelTypes } from './channels/index.js';

const SeverityT = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]);
const B64URL = '^[A-Za-z0-9_-]+=*$';
/** HH:MM..HH:MM in the site's time zone; may wrap midnight. */
export const QuietHours = Strict({
  from: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', 'x-expected': 'a time HH:MM', description: 'Start of the quiet hours, HH:MM in site time.' }),
  to: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', 'x-expected': 'a time HH:MM', description: 'End of the quiet hours, HH:MM in site time; may be earlier than from (over midnight).' }),
});
const OneOrMany = Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }))]);

/** Kinds raised from core events rather than findings. */
export const EVENT_KINDS = ['charger-rejected', 'charger-pending', 'plugin-failed'] as const;

const Rule = Strict({
  kind: Type.Optional({ ...OneOrMany, description: 'Finding check ids (offline, connector-fault, ...) or event kinds (charger-rejected, charger-pending, plugin-failed), one or a list; omitted = any.' }),
  severity: Type.Optional(Type.Array(SeverityT, { description: 'Matches when the finding\'s (or event\'s) severity is one of these (info, warning, critical); omitted = any.' })),
  chargers: Type.Optional(Type.Array(Type.String(), { description: 'Matches these charger ids only; omitted = any.' })),
  group: Type.Optional(Type.String({ description: 'Matches the chargers of this group (see groups); omitted = any.' })),
  ignore: Type.Boolean({ default: false, description: 'true: matching problems raise no alert.' }),
  alertSeverity: Type.Optional({ ...SeverityT, description: 'The alert\'s severity, when it should differ from the finding\'s.' }),
});

export const AlertsConfigSchema = Strict({
  rules: Type.Array(Rule, { default: [], description: 'Which problems raise an alert: checked in order, the first match decides; after yours, events and warning or critical findings alert.' }),
  groups: Type.Record(Type.String(), Type.Array(Type.String()), { default: {}, description: 'Named lists of charger ids, for rules.' }),
  flapWindow: Duration({ default: '10m', description: 'A problem raised again within this long after it resolved re-opens the same alert, like 10m.' }),
  resolveDelay: Duration({ default: '0s', description: 'Wait this long before sending a resolved notice (a flapping alert waits the flap window); 0s = at once.' }),
  outage: Strict({
    minChargers: Type.Integer({ minimum: 0, default: 3, description: 'This many chargers going offline within `within` make one power-outage alert instead of one each; 0 turns it off.' }),
    within: Duration({ default: '1m', description: 'Time window for outage.minChargers, like 1m.' }),
  }, { default: {}, description: 'Many chargers offline at once: one power-outage alert.' }),
  // Open: each entry is checked against its type's schema once the type is known (validate below).
  channels: Type.Array(Type.Object({
    name: Type.String({ minLength: 1, description: 'Name of the channel, for escalation levels and people: letters, digits, - and _.' }),
    type: Type.String({ minLength: 1, description: 'Channel type: email, sms, webhook, mqtt or webpush; its own keys sit beside name and type.' }),
  }, {
    additionalProperties: true,
    // For the settings form: the keys of each type, picked by `type`.
    'x-variants': { key: 'type', schemas: Object.fromEntries(Object.keys(channelTypes).map((t) => [t, channelSchema(t)])) },
  }), { default: [], description: 'Where alerts are sent: e-mail, SMS gateway, webhook (ntfy, Gotify, Slack), MQTT, Web Push.' }),
  people: Type.Record(Type.String(), Type.Array(Type.String()), { default: {}, description: 'On-call people: a name escalation levels may notify, standing for the list of their channels.' }),
  escalation: Type.Optional(Type.Array(Strict({
    after: Duration({ default: '0s', description: 'Delay after the alert was raised, like 15m; not shorter than the level before.' }),
    notify: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Channel or person names notified at this level.' }),
  }), { description: 'Levels notify after their delay unless the alert was acknowledged or resolved. Default: every channel at once.' })),
  repeat: Type.Optional(Duration({ description: 'Repeat the highest level reached this often until acknowledged or resolved, like 1h; unset = no repeats.' })),
  retry: Strict({
    first: Duration({ default: '5s', description: 'First retry delay of a failed delivery; doubles on each failure up to max.' }),
    max: Duration({ default: '10m', description: 'Longest delay between retries.' }),
    giveUpAfter: Duration({ default: '24h', description: 'A notice still undelivered after this long is marked failed and no longer retried.' }),
  }, { default: {}, description: 'Retries of failed deliveries.' }),
  ackLinkTtl: Duration({ default: '24h', description: 'How long the signed acknowledgement link in a message stays valid, like 24h.' }),
  push: Strict({
    vapidPublicKey: Type.Optional(Type.String({ pattern: B64URL, minLength: 80, maxLength: 100, 'x-expected': 'VAPID public key, base64url (uncompressed P-256 point)', description: 'VAPID public key, base64url (an uncompressed P-256 point); give both keys or neither.' })),
    vapidPrivateKey: Type.Optional(Type.String({ pattern: B64URL, minLength: 40, maxLength: 50, 'x-expected': 'VAPID private key, base64url (32 bytes)', description: 'VAPID private key, base64url (32 bytes); use ${NAME} to take it from the environment.' })),
    subject: Type.String({ pattern: '^(mailto:|https://)', default: 'mailto:admin@localhost', 'x-expected': 'VAPID contact the push service may write to (mailto: or https: URL)', description: 'VAPID contact the push service may write to: a mailto: or https: URL.' }),
    caFile: Type.Optional(Type.String({ minLength: 1, description: 'A PEM file of a CA to trust besides the system\'s, for a self-hosted push service on a private CA.' })),
  }, { default: {}, description: 'Web Push: the VAPID key pair (generated on first start and kept in the database when not given) and its contact.' }),
  drivers: Strict({
    enabled: Type.Boolean({ default: true, description: 'Send drivers notices about their own session, car, reservation, queue turn and card.' }),
    idleAfter: Duration({ default: '15m', description: 'A car that stays plugged in without charging this long gets a "please move it"; 0s turns it off.' }),
    reservationReminder: Duration({ default: '5m', description: 'The reminder this long before an unused reservation expires; 0s turns it off.' }),
    quietHours: Type.Optional({ ...QuietHours, description: 'Quiet hours for drivers who set none (site time); notices wait until they end, or are dropped if moot by then.' }),
    giveUpAfter: Duration({ default: '1h', description: 'How long an undelivered notice is retried before it is given up.' }),
  }, { default: {}, description: 'Notices to drivers\' own phones (Web Push).' }),
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
