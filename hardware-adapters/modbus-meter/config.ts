import { Type, type StaticDecode } from '@sinclair/typebox';
import { Duration, Strict, type ConfigProblem } from '../../core/schema.js';
import { linkKey, type LinkOptions } from './link.js';
import type { MeterModel, ModelSet } from './model.js';

const lit = <T extends string>(values: T[], description: string) => Type.Union(values.map((v) => Type.Literal(v)), { description });

/**
 * Where a meter is wired. Either `host` (Modbus TCP, or raw RTU frames with
 * `transport: rtu-over-tcp`) or `device` (RTU on a serial line). Left-out
 * link settings come from the model's factory defaults.
 */
export const ModbusLinkSchema = Strict({
  host: Type.Optional(Type.String({ minLength: 1, description: 'Address of the meter or its Modbus TCP gateway (give this or device).' })),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'TCP port with host; default 502.' })),
  transport: Type.Optional(lit(['tcp', 'rtu-over-tcp', 'rtu'], 'With host: tcp (Modbus TCP, the default) or rtu-over-tcp (RTU frames through a transparent gateway); with device: rtu.')),
  device: Type.Optional(Type.String({ minLength: 1, description: 'Serial port of an RTU line, like /dev/ttyUSB0 (give this or host).' })),
  baudRate: Type.Optional(Type.Integer({ minimum: 300, maximum: 921600, description: 'Serial speed with device, baud; default: the model\'s, else 9600.' })),
  parity: Type.Optional(lit(['none', 'even', 'odd'], 'Serial parity with device: none, even or odd; default: the model\'s, else none.')),
  dataBits: Type.Optional(Type.Union([Type.Literal(7), Type.Literal(8)], { description: 'Serial data bits with device, 7 or 8; default 8.' })),
  stopBits: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)], { description: 'Serial stop bits with device, 1 or 2; default: the model\'s, else 1.' })),
  unitId: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, description: 'Modbus unit (slave) id, 0-255; default: the model\'s, else 1.' })),
}, { description: 'Where the meter is wired: host (Modbus TCP, or RTU frames over TCP) or device (RTU on a serial line); left-out settings come from the model.' });

export const MeterConfigSchema = Strict({
  id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', 'x-expected': 'an id of letters, digits, "-", "_" or "."', description: 'Names the meter in events, the API and the UI: letters, digits, "-", "_" or ".".' }),
  model: Type.String({ minLength: 1, description: 'Meter model: a file name under hardware-adapters/modbus-meter/models/ without .yaml, like eastron-sdm630.' }),
  modbus: ModbusLinkSchema,
  role: lit(['grid', 'charger'], 'grid: the site\'s connection to the grid; charger: wired in front of one charger connector.'),
  chargerId: Type.Optional(Type.String({ minLength: 1, description: 'With role charger: the charger this meter measures.' })),
  connectorId: Type.Optional(Type.Integer({ minimum: 0, description: 'With role charger: the connector this meter measures.' })),
  pollInterval: Duration({ default: '5s', description: 'How often the meter is read, at least 100ms, like 5s.' }),
  invert: Type.Boolean({ default: false, description: 'Meter mounted the other way round: flips power and swaps import and export energy.' }),
  timeout: Duration({ default: '1s', description: 'How long one request waits for the answer, at least 50ms, like 1s.' }),
});

export const MetersConfigSchema = Type.Array(MeterConfigSchema, { default: [], description: 'Energy meters read over Modbus (site grid connection, or in front of a charger).' });

export type MeterConfig = StaticDecode<typeof MeterConfigSchema>;

const MIN_POLL_MS = 100;
const MIN_TIMEOUT_MS = 50;

/** The bus a meter is on, with the model's defaults filled in. */
export function linkOf(meter: MeterConfig, model: MeterModel | undefined): LinkOptions & { unitId: number } {
  const m = meter.modbus;
  const unitId = m.unitId ?? model?.link.unitId ?? 1;
  if (m.device !== undefined) {
    return {
      transport: 'rtu', device: m.device, unitId,
      baudRate: m.baudRate ?? model?.link.baudRate ?? 9600,
      parity: m.parity ?? model?.link.parity ?? 'none',
      dataBits: m.dataBits ?? 8,
      stopBits: m.stopBits ?? (model?.link.stopBits === '2' ? 2 : 1),
    };
  }
  return { transport: m.transport === 'rtu-over-tcp' ? 'rtu-over-tcp' : 'tcp', host: m.host, port: m.port ?? 502, unitId };
}

/** Cross-field checks of the `meters:` list; paths are relative to it ("[1].model"). */
export function validateMeters(meters: MeterConfig[], models: ModelSet): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const known = [...models.models.keys()];
  const ids = new Map<string, number>();
  const units = new Map<string, number>();
  const serial = new Map<string, { i: number; settings: string }>();
  meters.forEach((meter, i) => {
    const at = `[${i}]`;
    const first = ids.get(meter.id);
    if (first !== undefined) out.push({ path: `${at}.id`, message: `duplicate meter id "${meter.id}" (also meters[${first}])` });
    else ids.set(meter.id, i);

    const model = models.models.get(meter.model);
    const broken = models.broken.get(meter.model);
    if (broken) {
      out.push({ path: `${at}.model`, message: `model file is invalid: ${broken.message.replace(/\n/g, '; ')}` });
    } else if (!model) {
      out.push({ path: `${at}.model`, message: `expected one of ${known.join(', ')}, got "${meter.model}"` });
    }

    if (meter.role === 'charger') {
      if (meter.chargerId === undefined) out.push({ path: `${at}.chargerId`, message: 'is required when role is charger (the charger this meter measures)' });
      if (meter.connectorId === undefined) out.push({ path: `${at}.connectorId`, message: 'is required when role is charger (the connector this meter measures)' });
    } else {
      if (meter.chargerId !== undefined) out.push({ path: `${at}.chargerId`, message: 'only applies to role: charger' });
      if (meter.connectorId !== undefined) out.push({ path: `${at}.connectorId`, message: 'only applies to role: charger' });
    }

    if (meter.pollInterval < MIN_POLL_MS) out.push({ path: `${at}.pollInterval`, message: `expected at least ${MIN_POLL_MS}ms, got ${meter.pollInterval}ms` });
    if (meter.timeout < MIN_TIMEOUT_MS) out.push({ path: `${at}.timeout`, message: `expected at least ${MIN_TIMEOUT_MS}ms, got ${meter.timeout}ms` });

    const m = meter.modbus;
    if ((m.host === undefined) === (m.device === undefined)) {
      out.push({ path: `${at}.modbus`, message: 'expected either host (Modbus TCP or RTU over TCP) or device (RTU on a serial port)' });
      return;
    }
    if (m.device !== undefined) {
      for (const key of ['port'] as const) if (m[key] !== undefined) out.push({ path: `${at}.modbus.${key}`, message: 'only applies with host' });
      if (m.transport !== undefined && m.transport !== 'rtu') out.push({ path: `${at}.modbus.transport`, message: `expected rtu (or nothing) with device, got "${m.transport}"` });
    } else {
      for (const key of ['baudRate', 'parity', 'dataBits', 'stopBits'] as const) {
        if (m[key] !== undefined) out.push({ path: `${at}.modbus.${key}`, message: 'only applies with device (a serial port)' });
      }
      if (m.transport === 'rtu') out.push({ path: `${at}.modbus.transport`, message: 'expected tcp or rtu-over-tcp with host; use device for a serial port' });
    }
    const link = linkOf(meter, model);
    const key = `${linkKey(link)}#${link.unitId}`;
    const other = units.get(key);
    if (other !== undefined) out.push({ path: `${at}.modbus.unitId`, message: `unit ${link.unitId} on ${linkKey(link)} is already meters[${other}]` });
    else units.set(key, i);
    if (link.transport === 'rtu') {
      const settings = `${link.baudRate} baud, parity ${link.parity}, ${link.dataBits} data bits, ${link.stopBits} stop bit(s)`;
      const seen = serial.get(link.device!);
      if (seen && seen.settings !== settings) {
        out.push({ path: `${at}.modbus`, message: `${link.device} is used by meters[${seen.i}] with ${seen.settings}, here with ${settings}` });
      } else if (!seen) serial.set(link.device!, { i, settings });
    }
  });
  return out;
}
