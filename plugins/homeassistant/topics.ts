import { createHash } from 'node:crypto';

/** Longest part of a charger id kept in its slug; the hash suffix makes the rest unique. */
const SLUG_BASE_MAX = 40;

/**
 * A charger id as one MQTT topic level and HA object id: letters, digits, _ and -.
 * Charger ids are untrusted (OCPP lets a charger pick "+", ":" or "*"), so an id
 * that had to be changed or cut gets a hash of the whole id, and two ids never
 * share a slug by being cleaned alike. A clean id stays as it is, so its device
 * is the one the alerts plugin's MQTT channel announces.
 */
export function slugOf(chargerId: string, forceHash = false): string {
  const clean = chargerId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, SLUG_BASE_MAX);
  if (clean === chargerId && clean.length > 0 && !forceHash) return clean;
  const hash = createHash('sha256').update(chargerId, 'utf8').digest('hex').slice(0, 8);
  return `${clean}_${hash}`;
}

export type Button = 'start' | 'stop' | 'unlock' | 'reset';
export const BUTTONS: readonly Button[] = ['start', 'stop', 'unlock', 'reset'];

/** The topics of one appliance: where states, availability and commands live. */
export function topicsOf(topicPrefix: string, discoveryPrefix: string) {
  return {
    /** The appliance's own availability: birth "online", will "offline". */
    status: `${topicPrefix}/status`,
    /** Home Assistant says "online" here when it (re)starts. */
    haStatus: `${discoveryPrefix}/status`,
    /** Every button press of every charger, as one subscription. */
    commands: `${topicPrefix}/+/+/cmd/+`,
    availability: (slug: string) => `${topicPrefix}/${slug}/availability`,
    charger: (slug: string) => `${topicPrefix}/${slug}/state`,
    error: (slug: string) => `${topicPrefix}/${slug}/error`,
    connector: (slug: string, n: number) => `${topicPrefix}/${slug}/${n}/state`,
    command: (slug: string, n: number, button: Button) => `${topicPrefix}/${slug}/${n}/cmd/${button}`,
    config: (component: string, slug: string, objectId: string) => `${discoveryPrefix}/${component}/chargekeeper_${slug}/${objectId}/config`,
  };
}

export type Topics = ReturnType<typeof topicsOf>;

/** A command topic taken apart, or null when it is not exactly one of ours. */
export function parseCommand(topicPrefix: string, topic: string): { slug: string; connectorId: number; button: Button } | null {
  if (topic.length > 200 || !topic.startsWith(`${topicPrefix}/`)) return null;
  const parts = topic.slice(topicPrefix.length + 1).split('/');
  if (parts.length !== 4 || parts[2] !== 'cmd') return null;
  const [slug, connector, , button] = parts as [string, string, string, string];
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(slug) || !/^\d{1,2}$/.test(connector)) return null;
  if (!(BUTTONS as readonly string[]).includes(button)) return null;
  return { slug, connectorId: Number(connector), button: button as Button };
}
