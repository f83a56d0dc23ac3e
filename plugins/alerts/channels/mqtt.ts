import { Type } from '@sinclair/typebox';
import { Strict } from '../../../core/schema.js';
import type { MqttClient } from 'mqtt';
import { defineChannel, safeUrl, type Notice } from './channel.js';

/**
 * JSON notices on an MQTT topic; optionally a Home Assistant problem
 * binary_sensor per charger (discovery config + ON/OFF state, retained).
 */
export default defineChannel({
  config: Strict({
    url: Type.String({ pattern: '^mqtts?://', 'x-expected': 'a URL like mqtt://127.0.0.1:1883', description: 'Broker URL, mqtt:// or mqtts://, like mqtt://127.0.0.1:1883.' }),
    topic: Type.String({ minLength: 1, description: 'Topic the alerts are published to.' }),
    username: Type.Optional(Type.String({ description: 'Broker user name.' })),
    password: Type.Optional(Type.String({ description: 'Broker password; use ${NAME} to take it from the environment.' })),
    retain: Type.Boolean({ default: false, description: 'Publish retained messages, so a new subscriber sees the last one.' }),
    protocolVersion: Type.Union([Type.Literal(4), Type.Literal(5)], { default: 4, description: '4 = MQTT 3.1.1, 5 = MQTT 5.' }),
    homeAssistant: Type.Optional(Strict({
      discoveryPrefix: Type.String({ default: 'homeassistant', description: 'Home Assistant MQTT discovery prefix.' }),
    }, { description: 'Announce a problem sensor per charger to Home Assistant by MQTT discovery.' })),
  }),
  describe: (c) => `MQTT ${safeUrl(c.url)} topic ${c.topic}${c.homeAssistant ? ' (+ Home Assistant)' : ''}`,
  create(c) {
    let client: MqttClient | null = null;
    const announced = new Set<string>();

    // Reconnects are ours (the outbox retries with backoff), not mqtt.js's: it would queue in memory.
    const connect = async (): Promise<MqttClient> => {
      if (client?.connected) return client;
      client?.end(true);
      client = null;
      announced.clear();
      // Loaded on first use: a site without an MQTT channel never pays its memory.
      const { connectAsync } = await import('mqtt');
      const next = await connectAsync(c.url, {
        username: c.username, password: c.password, protocolVersion: c.protocolVersion,
        connectTimeout: c.timeout, reconnectPeriod: 0, clean: true,
        clientId: `chargekeeper-alerts-${c.name}-${Math.random().toString(16).slice(2, 8)}`,
      });
      next.on('error', () => undefined); // surfaced by the next publish
      client = next;
      return next;
    };

    const publish = async (mq: MqttClient, topic: string, body: string, retain: boolean) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          mq.publishAsync(topic, body, { qos: 1, retain }),
          new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no PUBACK within ${c.timeout} ms`)), c.timeout); }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    };

    const homeAssistant = async (mq: MqttClient, notice: Notice) => {
      const ha = c.homeAssistant;
      if (!ha) return;
      const subject = notice.alert.chargerId ?? 'site';
      const slug = subject.replace(/[^A-Za-z0-9_-]/g, '_');
      const stateTopic = `${c.topic}/${slug}/problem`;
      if (!announced.has(slug)) {
        const label = notice.alert.chargerId ? `Charger ${notice.chargerName ?? notice.alert.chargerId}` : 'Charging site';
        await publish(mq, `${ha.discoveryPrefix}/binary_sensor/chargekeeper_${slug}/problem/config`, JSON.stringify({
          name: 'Problem', unique_id: `chargekeeper_${slug}_problem`, device_class: 'problem',
          state_topic: stateTopic, payload_on: 'ON', payload_off: 'OFF',
          json_attributes_topic: `${stateTopic}/attributes`,
          device: { identifiers: [`chargekeeper_${slug}`], name: label, manufacturer: 'ChargeKeeper' },
        }), true);
        announced.add(slug);
      }
      await publish(mq, stateTopic, notice.chargerHasProblem ? 'ON' : 'OFF', true);
      await publish(mq, `${stateTopic}/attributes`, JSON.stringify(notice.payload), true);
    };

    return {
      async send(notice) {
        const mq = await connect();
        try {
          await publish(mq, c.topic, JSON.stringify(notice.payload), c.retain);
          if (notice.kind !== 'test') await homeAssistant(mq, notice);
        } catch (err) {
          mq.end(true);
          if (client === mq) client = null;
          throw err;
        }
      },
      async close() {
        await client?.endAsync(true).catch(() => undefined);
        client = null;
      },
    };
  },
});
