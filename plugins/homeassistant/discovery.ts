import type { ChargePointStatus } from '../../core/events.js';
import type { Button, Topics } from './topics.js';

/** What discovery needs to know about a charger. */
export interface DeviceInfo {
  chargerId: string;
  slug: string;
  name: string | null;
  vendor: string | null;
  model: string | null;
  firmwareVersion: string | null;
  connectorIds: number[];
}

/** One retained discovery message: its topic and its JSON body. */
export interface Announcement { topic: string; body: Record<string, unknown> }

const STATUSES: ChargePointStatus[] = ['Available', 'Preparing', 'Charging', 'SuspendedEVSE', 'SuspendedEV', 'Finishing', 'Reserved', 'Unavailable', 'Faulted'];

const BUTTON_LABEL: Record<Button, string> = { start: 'start charging', stop: 'stop charging', unlock: 'unlock', reset: 'Restart' };
const BUTTON_ICON: Record<Button, string> = { start: 'mdi:play', stop: 'mdi:stop', unlock: 'mdi:lock-open-variant', reset: 'mdi:restart' };

// Strings the charger chose (its id, vendor, model, firmware) go to HA bounded; JSON.stringify does the quoting.
const cut = (s: string | null, max = 64): string | undefined => (s ? s.slice(0, max) : undefined);

/**
 * Every discovery message of one charger: a device with its online sensor,
 * last error and restart button, and per connector its status, power,
 * energy and session. No card ids or driver names: a LAN broker is read by
 * whoever is on the LAN.
 */
export function announcements(d: DeviceInfo, t: Topics, o: { commands: boolean; version: string }): Announcement[] {
  const out: Announcement[] = [];
  const device = {
    identifiers: [`chargekeeper_${d.slug}`],
    name: cut(d.name, 100) ?? `Charger ${cut(d.chargerId)}`,
    manufacturer: cut(d.vendor) ?? 'unknown',
    model: cut(d.model),
    sw_version: cut(d.firmwareVersion),
  };
  const origin = { name: 'ChargeKeeper', sw_version: o.version };
  const appliance = { topic: t.status };
  // An entity of a charger that is offline is unavailable; its online sensor stays available to say so.
  const both = { availability: [appliance, { topic: t.availability(d.slug) }], availability_mode: 'all' };
  const add = (component: string, objectId: string, body: Record<string, unknown>) => out.push({
    topic: t.config(component, d.slug, objectId),
    body: { unique_id: `chargekeeper_${d.slug}_${objectId}`, device, origin, ...body },
  });

  add('binary_sensor', 'online', {
    name: 'Online', device_class: 'connectivity', entity_category: 'diagnostic',
    state_topic: t.charger(d.slug), value_template: "{{ 'ON' if value_json.online else 'OFF' }}",
    availability: [appliance],
  });
  add('sensor', 'last_error', {
    name: 'Last error', icon: 'mdi:alert-circle-outline', entity_category: 'diagnostic',
    state_topic: t.error(d.slug), value_template: '{{ value_json.error }}', json_attributes_topic: t.error(d.slug),
    ...both,
  });
  if (o.commands) {
    add('button', 'reset', {
      name: BUTTON_LABEL.reset, device_class: 'restart', icon: BUTTON_ICON.reset, entity_category: 'config',
      command_topic: t.command(d.slug, 0, 'reset'), payload_press: 'PRESS', ...both,
    });
  }
  for (const n of d.connectorIds) {
    const state = t.connector(d.slug, n);
    const label = `Connector ${n}`;
    add('sensor', `c${n}_status`, {
      name: `${label} status`, device_class: 'enum', options: STATUSES, icon: 'mdi:ev-station',
      state_topic: state, value_template: '{{ value_json.status }}', ...both,
    });
    add('sensor', `c${n}_power`, {
      name: `${label} power`, device_class: 'power', state_class: 'measurement', unit_of_measurement: 'W',
      state_topic: state, value_template: '{{ value_json.powerW }}', ...both,
    });
    add('sensor', `c${n}_energy`, {
      name: `${label} energy`, device_class: 'energy', state_class: 'total_increasing', unit_of_measurement: 'Wh',
      state_topic: state, value_template: '{{ value_json.energyWh }}', ...both,
    });
    add('binary_sensor', `c${n}_session`, {
      name: `${label} session`, device_class: 'running',
      state_topic: state, value_template: "{{ 'ON' if value_json.session.active else 'OFF' }}",
      json_attributes_topic: state, json_attributes_template: '{{ value_json.session | tojson }}', ...both,
    });
    add('sensor', `c${n}_session_energy`, {
      name: `${label} session energy`, device_class: 'energy', unit_of_measurement: 'Wh',
      state_topic: state, value_template: '{{ value_json.session.energyWh }}', ...both,
    });
    add('sensor', `c${n}_session_duration`, {
      name: `${label} session duration`, device_class: 'duration', unit_of_measurement: 's',
      state_topic: state, value_template: '{{ value_json.session.durationS }}', ...both,
    });
    if (o.commands) {
      for (const b of ['start', 'stop', 'unlock'] as const) {
        add('button', `c${n}_${b}`, {
          name: `${label} ${BUTTON_LABEL[b]}`, icon: BUTTON_ICON[b],
          command_topic: t.command(d.slug, n, b), payload_press: 'PRESS', ...both,
        });
      }
    }
  }
  return out;
}
