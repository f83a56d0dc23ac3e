import { randomUUID } from 'node:crypto';
import type { IClientPublishOptions, MqttClient } from 'mqtt';
import { errorMessage } from '../errors.js';
import { urlsToOrigins } from '../redact.js';
import type { Logger } from '../types.js';

/** A request's answer: the charger's reply, or why it failed (a SendError's kind and details). */
export type Answer =
  | { ok: true; response: unknown }
  | { ok: false; kind: string; message: string; code?: string; fields?: unknown; action?: string; protocol?: string };

export interface CommandRequest { chargerId: string; action: string; payload: unknown; timeoutMs?: number }

export interface LinkOptions {
  url: string;
  nodeId: string;
  prefix: string;
  protocolVersion: 4 | 5;
  log: Logger;
  /** Another node's event (display only). */
  onEvent(event: string, payload: unknown): void;
  /** A command for a charger connected here, asked by another node. */
  onCommand(req: CommandRequest): Promise<Answer>;
  /** Another node took a charger's lease at this epoch. */
  onLeaseTaken(chargerId: string, epoch: number): void;
}

/** Events not yet acknowledged by the broker past which new ones are dropped (the broker is down): memory stays bounded. */
const MAX_UNACKED = 10_000;
/** Longest JSON accepted from the broker: a node's message, not a file. */
const MAX_MESSAGE_BYTES = 1_000_000;
const REPLY_MARGIN_MS = 2_000;

/** Topic level of a charger id: ids may hold + and other characters MQTT topics must not. */
export const topicId = (chargerId: string) => encodeURIComponent(chargerId);

/**
 * The nodes' MQTT link: events out and in, command requests with replies, lease news. mqtt.js reconnects
 * (reconnectPeriod) while the broker is down and never throws: events are best effort meanwhile.
 */
export class ClusterLink {
  #o: LinkOptions;
  #client: MqttClient | null = null;
  #boot = randomUUID().slice(0, 8);
  #seq = 0;
  #unacked = 0;
  #dropped = 0;
  /** Last sequence seen per node boot and topic: QoS 1 may deliver twice. */
  #lastSeq = new Map<string, number>();
  #pending = new Map<string, { resolve: (a: Answer) => void; timer: NodeJS.Timeout }>();

  constructor(o: LinkOptions) {
    this.#o = o;
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  #topic(...rest: string[]): string {
    return [this.#o.prefix, ...rest].join('/');
  }

  async start(): Promise<void> {
    const { default: mqtt } = await import('mqtt');
    const { log, url, nodeId } = this.#o;
    const client = mqtt.connect(url, {
      protocolVersion: this.#o.protocolVersion, clean: true, reconnectPeriod: 1000, connectTimeout: 5000,
      clientId: `${this.#o.prefix.replace(/\//g, '-')}-${nodeId}-${this.#boot}`,
    });
    this.#client = client;
    let wasDown = false;
    client.on('connect', () => {
      if (wasDown) log.info(`cluster bus ${urlsToOrigins(url)} reachable again`);
      wasDown = false;
      // A clean session forgets subscriptions: made on every connection.
      client.subscribe([this.#topic('events', '#'), this.#topic('node', nodeId, '+')], { qos: 1 }, (err) => {
        if (err) log.warn(`could not subscribe on the cluster bus: ${errorMessage(err)}`);
      });
    });
    client.on('error', (err) => log.warn(`cluster bus: ${urlsToOrigins(errorMessage(err))}`));
    client.on('offline', () => {
      if (!wasDown) log.warn(`cluster bus ${urlsToOrigins(url)} unreachable; serving this node's chargers, retrying`);
      wasDown = true;
    });
    client.on('message', (topic, payload, packet) => {
      if (payload.length > MAX_MESSAGE_BYTES) return;
      let body: unknown;
      try { body = JSON.parse(payload.toString('utf8')); } catch { return; }
      if (!body || typeof body !== 'object') return;
      try {
        this.#received(topic, body as Record<string, unknown>, packet.properties);
      } catch (err) {
        log.error(`cluster message on ${topic.slice(0, 200)} failed`, { error: errorMessage(err) });
      }
    });
  }

  #received(topic: string, m: Record<string, unknown>, props: { responseTopic?: string; correlationData?: Buffer } | undefined): void {
    const mine = this.#topic('node', this.#o.nodeId, '');
    if (topic.startsWith(this.#topic('events', ''))) {
      if (m.node === this.#o.nodeId || typeof m.event !== 'string' || typeof m.seq !== 'number') return;
      const key = `${String(m.node)}/${String(m.boot)}|${topic}`;
      if (m.seq <= (this.#lastSeq.get(key) ?? 0)) return;
      if (this.#lastSeq.size > 50_000) this.#lastSeq.clear();
      this.#lastSeq.set(key, m.seq);
      this.#o.onEvent(m.event, m.payload);
    } else if (topic === `${mine}command`) {
      const replyTo = props?.responseTopic ?? m.replyTo;
      const id = props?.correlationData?.toString('utf8') ?? m.id;
      if (typeof replyTo !== 'string' || typeof id !== 'string' || typeof m.chargerId !== 'string' || typeof m.action !== 'string') return;
      if (!replyTo.startsWith(this.#topic('node', ''))) return;
      const req: CommandRequest = { chargerId: m.chargerId, action: m.action, payload: m.payload, timeoutMs: typeof m.timeoutMs === 'number' ? m.timeoutMs : undefined };
      void this.#o.onCommand(req).then((answer) => this.#publish(replyTo, { id, ...answer }, { qos: 1, ...this.#v5({ correlationData: Buffer.from(id) }) }));
    } else if (topic === `${mine}reply`) {
      const id = props?.correlationData?.toString('utf8') ?? m.id;
      const waiting = typeof id === 'string' ? this.#pending.get(id) : undefined;
      if (!waiting) return;
      const { id: _, ...answer } = m;
      waiting.resolve(answer as Answer);
    } else if (topic === `${mine}lease`) {
      if (typeof m.chargerId === 'string' && typeof m.epoch === 'number') this.#o.onLeaseTaken(m.chargerId, m.epoch);
    }
  }

  #v5(properties: IClientPublishOptions['properties']): Pick<IClientPublishOptions, 'properties'> {
    return this.#o.protocolVersion === 5 ? { properties } : {};
  }

  #publish(topic: string, body: unknown, opts: IClientPublishOptions, done?: () => void): void {
    this.#client?.publish(topic, JSON.stringify(body), opts, (err) => {
      if (err) this.#o.log.warn(`cluster publish on ${topic} failed: ${errorMessage(err)}`);
      done?.();
    });
  }

  /** Publishes an event emitted here; while the broker is down mqtt.js queues it, and past a bound it is dropped. */
  publishEvent(event: string, payload: unknown): void {
    if (!this.#client) return;
    if (this.#unacked >= MAX_UNACKED) {
      if (this.#dropped++ === 0) this.#o.log.warn(`cluster bus: ${MAX_UNACKED} events not delivered; dropping events until it is back`);
      return;
    }
    if (this.#dropped && this.connected) {
      this.#o.log.warn(`cluster bus: ${this.#dropped} events were dropped while it was unreachable`);
      this.#dropped = 0;
    }
    const chargerId = (payload as { chargerId?: unknown } | null)?.chargerId;
    const topic = this.#topic('events', typeof chargerId === 'string' ? topicId(chargerId) : '_');
    this.#unacked++;
    this.#publish(topic, { node: this.#o.nodeId, boot: this.#boot, seq: ++this.#seq, event, payload }, { qos: 1 }, () => { this.#unacked--; });
  }

  /** Tells the node that held a charger's lease that this node took it (so it closes its socket now). */
  tellLeaseTaken(node: string, chargerId: string, epoch: number): void {
    if (this.connected) this.#publish(this.#topic('node', node, 'lease'), { chargerId, epoch }, { qos: 1 });
  }

  /** Asks the node a charger is connected to to send it a command; resolves with its answer, or a timeout/offline one. */
  request(node: string, req: CommandRequest, timeoutMs: number): Promise<Answer> {
    if (!this.connected) {
      return Promise.resolve({ ok: false, kind: 'offline', message: `charger ${req.chargerId} is connected to node ${node}, and the cluster bus is unreachable; try again when it is back` });
    }
    const id = randomUUID();
    const replyTo = this.#topic('node', this.#o.nodeId, 'reply');
    return new Promise<Answer>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve({ ok: false, kind: 'timeout', message: `node ${node} did not answer ${req.action} for charger ${req.chargerId} in time` });
      }, timeoutMs + REPLY_MARGIN_MS);
      this.#pending.set(id, { resolve: (a) => { clearTimeout(timer); this.#pending.delete(id); resolve(a); }, timer });
      this.#publish(this.#topic('node', node, 'command'), { id, replyTo, ...req }, { qos: 1, ...this.#v5({ responseTopic: replyTo, correlationData: Buffer.from(id) }) });
    });
  }

  async stop(): Promise<void> {
    for (const { timer, resolve } of this.#pending.values()) {
      clearTimeout(timer);
      resolve({ ok: false, kind: 'offline', message: 'this node is shutting down' });
    }
    this.#pending.clear();
    await this.#client?.endAsync(true).catch(() => undefined);
  }
}
