import { redactUrl } from '../../../core/redact.js';
import { Type, type StaticDecode, type TObject } from '@sinclair/typebox';
import { Duration, Strict } from '../../../core/schema.js';
import type { Alert } from '../../../core/events.js';
import type { Logger } from '../../../core/types.js';
import type { PushStore } from '../push.js';

/** What a notice is about: a raised alert, a reminder, its resolution, or a test from the UI. */
export type NoticeKind = 'raised' | 'repeat' | 'resolved' | 'test';

/** An alert as notices and the API show it. */
export interface AlertView extends Alert {
  connectorId: number | null;
  /** What to do about it, when known. */
  action: string | null;
  /** When the problem started (the finding's since), ISO. */
  since: string;
  acknowledgedBy: string | null;
  /** How often it was raised again (repeats and flaps) since it opened. */
  count: number;
}

/** One message to one channel, composed once and rendered by each channel type as it likes. */
export interface Notice {
  kind: NoticeKind;
  /** De-duplication key of this notification (outbox); the same on every retry. */
  key: string;
  /** Escalation level that sent it (0 = first). */
  level: number;
  alert: AlertView;
  /** The charger's display name, or null. */
  chargerName: string | null;
  /** One line: what, where. */
  subject: string;
  /** The full plain-text message: what, where, since when, cause, what to do, links. */
  text: string;
  /** A short form for SMS and push titles (< 200 characters, with the ack link). */
  short: string;
  /** Link to the charger page (or the alerts page for site-wide alerts). */
  link: string;
  /** Signed one-time acknowledgement link; null on resolved and test notices. */
  ackUrl: string | null;
  /** Whether the charger still has an unresolved alert after this notice (Home Assistant problem sensor). */
  chargerHasProblem: boolean;
  /** JSON body for MQTT and webhooks: at least { id, severity, kind, chargerId, message, state }. */
  payload: Record<string, unknown>;
}

/** Keys every channel has, whatever its type. */
export const ChannelCommon = {
  name: Type.String({ pattern: '^[A-Za-z0-9_-]+$', 'x-expected': 'a name of letters, digits, - and _', description: 'Name of the channel, for escalation levels and people: letters, digits, - and _.' }),
  quietHours: Type.Optional(Strict({
    from: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', 'x-expected': 'a time HH:MM', description: 'Start of the quiet hours, HH:MM in site time.' }),
    to: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', 'x-expected': 'a time HH:MM', description: 'End of the quiet hours, HH:MM in site time; may be earlier than from (over midnight).' }),
  }, { description: 'Non-critical notices to this channel wait while the site\'s local time is within from..to.' })),
  timeout: Duration({ default: '10s', description: 'How long one delivery attempt may take, like 10s.' }),
};

export interface CommonConfig {
  name: string;
  type: string;
  quietHours?: { from: string; to: string };
  /** ms */
  timeout: number;
}

export interface ChannelDeps {
  log: Logger;
  /** Site name, for message titles. */
  site: string;
  /** Push subscriptions and VAPID keys, for the webpush channel. */
  push?: PushStore;
}

/** A live channel: sends one notice or throws why it could not. */
export interface ChannelSender {
  send(notice: Notice): Promise<void>;
  close?(): Promise<void>;
}

/** A channel type as the registry (channels/index.ts) holds it. */
export interface ChannelType {
  /** Config keys of this type besides name, type, quietHours and timeout. */
  config: TObject;
  /** Where it sends to, without secrets (GET /api/alerts/channels). */
  describe(config: never): string;
  create(config: never, deps: ChannelDeps): ChannelSender;
}

export type ChannelConfig<S extends TObject> = StaticDecode<S> & CommonConfig;

/** Declares a channel type with its config schema; the config handed to create() is validated and decoded. */
export function defineChannel<S extends TObject>(type: {
  config: S;
  describe(config: ChannelConfig<S>): string;
  create(config: ChannelConfig<S>, deps: ChannelDeps): ChannelSender;
}): ChannelType {
  return type;
}

/** URL without user info and query (tokens often ride there), for display. */
export function safeUrl(url: string): string {
  try {
    // Token-like path segments are where ntfy, Slack and Gotify keep their secret.
    const u = new URL(redactUrl(url));
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
