import { Type, type StaticDecode } from '@sinclair/typebox';
import { Duration, Strict, type ConfigProblem } from '../../core/schema.js';
import { linkKey, type LinkOptions } from './link.js';
import type { MeterModel, ModelSet } from './model.js';

const lit = <T extends string>(...values: T[]) => Type.Union(values.map((v) => Type.Literal(v)));

/**
 * Where a meter is wired. Either `host` (Modbus TCP, or raw RTU frames with
 * `transport: rtu-over-tcp`) or `device` (RTU on a serial line). Left-out
 * link settings come from the model's factory defaults.
 */
export const ModbusLinkSchema = Strict({
  host: Type.Optional(Type.String({ minLength: 1 })),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  transport: Type.Optional(lit('tcp', 'rtu-over-tcp', 'rtu')),
  device: Type.Optional(Type.String({ minLength: 1 })),
  baudRate: Type.Optional(Type.Integer({ minimum: 300, maximum: 921600 })),
  parity: Type.Optional(lit('none', 'even', 'odd')),
  dataBits: Type.Optional(Type.Union([Type.Literal(7), Type.Literal(8)])),
  stopBits: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)])),
  /** Modbus unit (slave) id; 1 when neither the config nor the model says otherwise. */
  unitId: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
});

export const MeterConfigSchema = Strict({
  /** Names the meter in events, the API and the UI. */
  id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', description: 'an id of letters, digits, "-", "_" or "."' }),
  /** A file name under hardware-adapters/modbus-meter/models/, without .yaml. */
  model: Type.String({ minLength: 1 }),
  modbus: ModbusLinkSchema,
  /** grid = the site's connection to the grid; charger = wired in front of one charger connector. */
  role: lit('grid', 'charger'),
  chargerId: Type.Optional(Type.String({ minLength: 1 })),
  connectorId: Type.Optional(Type.Integer({ minimum: 0 })),
  pollInterval: Duration({ default: '5s' }),
  /** Meter mounted the other way round: flips power and swaps import/export energy. */
  invert: Type.Boolean({ default: false }),
  /** How long one request may wait for the answer. */
  timeout: Duration({ default: '1s' }),
});

export const MetersConfigSchema = Type.Array(MeterConfigSchema, { default: [] });

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
