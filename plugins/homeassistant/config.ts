import { Type, type StaticDecode } from '@sinclair/typebox';
import { Duration, Strict, type ConfigProblem } from '../../core/schema.js';
import { ROLES } from '../../core/types.js';

// A topic level we build topics from: no wildcards, no separators, nothing HA's discovery refuses.
const TOPIC_WORD = '^[A-Za-z0-9_-]{1,64}$';

export const HomeAssistantConfigSchema = Strict({
  url: Type.String({ default: 'mqtt://127.0.0.1:1883', pattern: '^mqtts?://', 'x-expected': 'a URL like mqtt://127.0.0.1:1883', description: 'Broker URL, mqtt:// or mqtts://; the default is a broker on this box.' }),
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Broker user name.' })),
  password: Type.Optional(Type.String({ maxLength: 500, description: 'Broker password; use ${NAME} to take it from the environment.' })),
  discoveryPrefix: Type.String({ default: 'homeassistant', pattern: TOPIC_WORD, 'x-expected': 'one topic level of letters, digits, _ or -', description: 'Home Assistant\'s MQTT discovery prefix (its MQTT integration setting).' }),
  topicPrefix: Type.String({ default: 'chargekeeper', pattern: TOPIC_WORD, 'x-expected': 'one topic level of letters, digits, _ or -', description: 'First level of the state, availability and command topics.' }),
  timeout: Duration({ default: '10s', description: 'How long to wait for the broker to accept the connection or a message.' }),
  commands: Strict({
    enabled: Type.Boolean({ default: false, description: 'Offer start, stop, unlock and restart buttons in Home Assistant.' }),
    role: Type.Union(ROLES.map((r) => Type.Literal(r)), { default: 'technician', description: 'The role the buttons act with; admin, installer and technician may send them, the others are refused.' }),
    idTag: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'The card a start from Home Assistant charges with; required when the buttons are enabled.' })),
  }, { default: {}, description: 'Buttons in Home Assistant that send OCPP commands to the chargers.' }),
});

export type HomeAssistantConfig = StaticDecode<typeof HomeAssistantConfigSchema>;

export function validate(c: HomeAssistantConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (c.commands.enabled && c.commands.idTag === undefined) {
    out.push({ path: 'commands.idTag', message: 'is required when commands.enabled is true (the card a start from Home Assistant charges with)' });
  }
  if (c.discoveryPrefix === c.topicPrefix) {
    out.push({ path: 'topicPrefix', message: `must differ from discoveryPrefix "${c.discoveryPrefix}"` });
  }
  return out;
}
