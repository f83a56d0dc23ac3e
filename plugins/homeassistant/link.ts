import type { MqttClient } from 'mqtt';
import { errorMessage } from '../../core/errors.js';
import { urlsToOrigins } from '../../core/redact.js';
import type { Logger } from '../../core/types.js';

export interface LinkOptions {
  url: string;
  username?: string;
  password?: string;
  /** Ms to wait for CONNACK, SUBACK or PUBACK. */
  timeoutMs: number;
  /** Retained "online" here once connected, "offline" as the will and on stop. */
  statusTopic: string;
  /** Topics subscribed on every connection (a clean session forgets them). */
  subscriptions: () => string[];
  log: Logger;
  /** Runs after each (re)connection, birth published and subscriptions made. */
  onConnect(): Promise<void>;
  onMessage(topic: string, payload: Buffer): void;
}

/** How the broker link is doing, for the status route. */
export interface LinkState {
  connected: boolean;
  /** Why the last attempt or connection failed (URLs cut to their origin; never a password). */
  lastError: string | null;
  lastConnectedAt: string | null;
  attempts: number;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

/**
 * One long-lived MQTT connection, retried with doubling backoff while the
 * broker is down (never fatal). Reconnects are ours, not mqtt.js's: it would
 * queue publishes in memory while offline, and everything is re-sent on
 * connect anyway.
 */
export function createLink(o: LinkOptions) {
  let client: MqttClient | null = null;
  let timer: NodeJS.Timeout | undefined;
  let delayMs = RETRY_MIN_MS;
  let stopped = true;
  const state: LinkState = { connected: false, lastError: null, lastConnectedAt: null, attempts: 0 };

  const withTimeout = async <T>(p: Promise<T>, what: string): Promise<T> => {
    let t: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([p, new Promise<never>((_, reject) => { t = setTimeout(() => reject(new Error(`no ${what} within ${o.timeoutMs} ms`)), o.timeoutMs); })]);
    } finally {
      clearTimeout(t);
    }
  };

  const failed = (err: unknown) => {
    const text = urlsToOrigins(errorMessage(err)).slice(0, 300);
    if (text !== state.lastError) o.log.warn(`broker ${safeUrl(o.url)}: ${text}`);
    state.lastError = text;
  };

  const retry = () => {
    if (stopped || timer) return;
    const wait = delayMs + Math.floor(Math.random() * delayMs * 0.2);
    delayMs = Math.min(delayMs * 2, RETRY_MAX_MS);
    timer = setTimeout(() => { timer = undefined; void attempt(); }, wait);
    timer.unref();
  };

  const attempt = async () => {
    if (stopped) return;
    state.attempts += 1;
    let next: MqttClient | null = null;
    try {
      // Loaded on first use: a site without Home Assistant never pays its memory.
      const { connectAsync } = await import('mqtt');
      next = await connectAsync(o.url, {
        username: o.username, password: o.password, protocolVersion: 4,
        connectTimeout: o.timeoutMs, reconnectPeriod: 0, clean: true,
        clientId: `chargekeeper-ha-${Math.random().toString(16).slice(2, 10)}`,
        will: { topic: o.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
      });
      if (stopped) { await next.endAsync(true).catch(() => undefined); return; }
      next.on('error', (err) => failed(err));
      next.on('message', (topic, payload) => o.onMessage(topic, payload));
      next.on('close', () => {
        if (client !== next) return;
        client = null;
        state.connected = false;
        if (!stopped) { failed(new Error('connection to the broker closed')); retry(); }
      });
      client = next;
      const topics = o.subscriptions();
      if (topics.length) await withTimeout(next.subscribeAsync(topics, { qos: 1 }), 'SUBACK');
      await publishOn(next, o.statusTopic, 'online', true);
      state.connected = true;
      state.lastError = null;
      state.lastConnectedAt = new Date().toISOString();
      delayMs = RETRY_MIN_MS;
      o.log.info(`connected to broker ${safeUrl(o.url)}`);
      await o.onConnect();
    } catch (err) {
      failed(err);
      if (next && client === next) client = null;
      state.connected = false;
      next?.end(true);
      retry();
    }
  };

  const publishOn = (mq: MqttClient, topic: string, body: string, retain: boolean) =>
    withTimeout(mq.publishAsync(topic, body, { qos: 1, retain }), 'PUBACK');

  return {
    state,
    start() {
      stopped = false;
      void attempt();
    },
    /** Publishes when connected; false when there is no connection (everything is sent again on connect). */
    async publish(topic: string, body: string, retain = true): Promise<boolean> {
      const mq = client;
      if (!mq || !state.connected) return false;
      try {
        await publishOn(mq, topic, body, retain);
        return true;
      } catch (err) {
        // A broker that stops acknowledging is as good as gone: start over.
        failed(err);
        if (client === mq) { client = null; state.connected = false; mq.end(true); retry(); }
        return false;
      }
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      const mq = client;
      client = null;
      state.connected = false;
      if (!mq) return;
      // A clean disconnect sends no will, so say it ourselves.
      await publishOn(mq, o.statusTopic, 'offline', true).catch(() => undefined);
      await withTimeout(mq.endAsync(false), 'disconnect').catch(() => mq.end(true));
    },
  };
}

export type Link = ReturnType<typeof createLink>;

/** The broker URL without credentials, to name it in logs and the status route. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'the broker';
  }
}
