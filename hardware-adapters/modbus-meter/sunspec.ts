import { DeviceError } from '../../core/errors.js';
import { ADAPTER, type ModbusLink } from './link.js';
import { WORDS, type MeterModel, type PhaseReadingSpec, type ScalarReadingSpec } from './model.js';

/** "SunS": the two holding registers a SunSpec map starts with. */
export const SUNSPEC_MARKER = [0x5375, 0x6e53] as const;
/** Where the SunSpec standard allows the map to start, in the order they are tried. */
export const SUNSPEC_BASES = [40000, 50000, 0] as const;
/** Model ID of the header that ends the chain. */
const END_ID = 0xffff;
/** A chain longer than this is garbage (real devices list a handful of models). */
const MAX_MODELS = 64;

/** What discovery needs from a bus: reads and a name for messages. */
export type RegisterReader = Pick<ModbusLink, 'read' | 'key'>;

/** Where a model file's SunSpec model sits on one device. */
export interface SunSpecLocation {
  /** Holding register of the "SunS" marker. */
  base: number;
  /** Holding register of the matching model's header (ID, then length). */
  header: number;
  /** The model ID found there. */
  id: number;
  /** Its length in registers, after the 2-register header. */
  length: number;
  /** Added to every address of the model file: header − nominalHeader. */
  shift: number;
}

/** An exception reply (e.g. illegal data address): the device is there but has nothing at that address. */
function isExceptionReply(err: unknown): boolean {
  const cause = err instanceof DeviceError ? err.cause : undefined;
  return typeof (cause as { modbusCode?: unknown } | undefined)?.modbusCode === 'number';
}

/** Two holding registers, or null when the device answers with an exception; timeouts and lost links propagate. */
async function readPair(link: RegisterReader, unitId: number, addr: number, timeoutMs: number): Promise<[number, number] | null> {
  try {
    const [a, b] = await link.read({ unitId, fn: 'holding', addr, count: 2, timeoutMs });
    return [a!, b!];
  } catch (err) {
    if (isExceptionReply(err)) return null;
    throw err;
  }
}

/**
 * Finds the model's SunSpec header on a device: the "SunS" marker at 40000,
 * 50000 or 0, then the model chain header by header until an ID the model
 * file lists. Throws a DeviceError naming the bases tried or the IDs found.
 */
export async function locateSunSpec(link: RegisterReader, model: MeterModel, unitId: number, timeoutMs: number): Promise<SunSpecLocation> {
  const spec = model.sunspec;
  if (!spec) throw new Error(`model ${model.model} has no sunspec key`);
  const where = `${link.key}: unit ${unitId}`;
  for (const base of SUNSPEC_BASES) {
    const marker = await readPair(link, unitId, base, timeoutMs);
    if (!marker || marker[0] !== SUNSPEC_MARKER[0] || marker[1] !== SUNSPEC_MARKER[1]) continue;
    const found: number[] = [];
    let header = base + 2;
    for (let i = 0; i < MAX_MODELS && header + 2 <= 65536; i++) {
      const pair = await readPair(link, unitId, header, timeoutMs);
      // An exception reply past the last model, or ID 0 (no such SunSpec model), ends a chain missing its end marker.
      if (!pair || pair[0] === END_ID || pair[0] === 0) break;
      const [id, length] = pair;
      found.push(id);
      if (spec.models.includes(id)) return { base, header, id, length, shift: header - spec.nominalHeader };
      header += 2 + length;
    }
    const listed = found.length ? `models ${found.join(', ')}` : 'no models';
    throw new DeviceError(ADAPTER, `${where}: SunSpec map at holding register ${base} has ${listed} but none of ${spec.models.join(', ')}`, false);
  }
  throw new DeviceError(ADAPTER, `${where}: no SunSpec map: no "SunS" marker at holding register ${SUNSPEC_BASES.join(', ')}`, false);
}

type ReadingSpec = ScalarReadingSpec | PhaseReadingSpec;

/** The model with every register address moved by `by`, and without its sunspec key (the addresses are now the device's). */
export function shiftModel(model: MeterModel, by: number): MeterModel {
  const { sunspec: _located, ...rest } = model;
  const move = <S extends ReadingSpec>(spec: S): S => ({
    ...spec,
    addr: Array.isArray(spec.addr) ? spec.addr.map((a) => a + by) : spec.addr + by,
    ...(spec.scaleFactorAddr !== undefined ? { scaleFactorAddr: spec.scaleFactorAddr + by } : {}),
  });
  const readings: MeterModel['readings'] = {};
  for (const [key, spec] of Object.entries(model.readings) as Array<[keyof MeterModel['readings'], ReadingSpec | undefined]>) {
    if (spec) (readings as Record<string, ReadingSpec>)[key] = move(spec);
  }
  return { ...rest, readings };
}

/** The first address of the model that a shift by `by` moves out of the register space, if any. */
function outOfRange(model: MeterModel, by: number): number | undefined {
  for (const spec of Object.values(model.readings) as Array<ReadingSpec | undefined>) {
    if (!spec) continue;
    for (const a of Array.isArray(spec.addr) ? spec.addr : [spec.addr]) if (a + by < 0 || a + by + WORDS[spec.type] > 65536) return a;
    if (spec.scaleFactorAddr !== undefined && (spec.scaleFactorAddr + by < 0 || spec.scaleFactorAddr + by > 65535)) return spec.scaleFactorAddr;
  }
  return undefined;
}

/**
 * The model with the addresses this device uses: itself unless it has a
 * `sunspec` key, else shifted to where the device's model chain puts it.
 */
export async function locateModel(link: RegisterReader, model: MeterModel, unitId: number, timeoutMs: number): Promise<MeterModel> {
  if (!model.sunspec) return model;
  return placeModel(link, model, unitId, await locateSunSpec(link, model, unitId, timeoutMs));
}

/** The model shifted to a found location; a shift past the register space is the device's nonsense, not the file's. */
export function placeModel(link: RegisterReader, model: MeterModel, unitId: number, at: SunSpecLocation): MeterModel {
  const bad = outOfRange(model, at.shift);
  if (bad !== undefined) {
    throw new DeviceError(ADAPTER, `${link.key}: unit ${unitId}: SunSpec model ${at.id} at holding register ${at.header} moves register ${bad} of ${model.model} out of the register space`, false);
  }
  return at.shift === 0 ? model : shiftModel(model, at.shift);
}

/**
 * The registers of a minimal SunSpec map that puts a found model at the file's
 * nominalHeader: the marker, one filler model up to it, the model's header.
 * With the device's values moved back by the shift, that makes a fixture the
 * file's addresses (and discovery) replay.
 */
export function nominalMap(model: MeterModel, at: SunSpecLocation): Record<number, number> {
  const nominal = model.sunspec?.nominalHeader ?? at.header;
  // The highest allowed base that leaves room for the filler model's header before the nominal one.
  const base = [...SUNSPEC_BASES].sort((a, b) => b - a).find((b) => b + 4 <= nominal);
  const out: Record<number, number> = { [nominal]: at.id, [nominal + 1]: at.length };
  if (base === undefined) return out;
  // The filler is the common model (ID 1) when the nominal layout is the usual 40000 + 2 + 66.
  Object.assign(out, { [base]: SUNSPEC_MARKER[0], [base + 1]: SUNSPEC_MARKER[1], [base + 2]: 1, [base + 3]: nominal - base - 4 });
  return out;
}
