import {
  PHASE_KEYS, SCALAR_KEYS, WORDS,
  type FunctionKind, type MeterModel, type MeterReading, type PhaseReadingSpec, type ScalarReadingSpec,
} from './model.js';

/** One request: `count` registers from `addr` with one function code. */
export interface ReadBlock {
  fn: FunctionKind;
  addr: number;
  count: number;
}

/** Looks up one raw 16-bit register; undefined when it was not read. */
export type RegisterSource = (fn: FunctionKind, addr: number) => number | undefined;

const DEFAULT_MAX_COUNT = 100;

/** The requests that fetch every register a model's readings need, merged per the model's `blocks` rule. */
export function planReads(model: MeterModel): ReadBlock[] {
  const spans: Record<FunctionKind, Array<[number, number]>> = { input: [], holding: [] };
  for (const spec of specs(model)) {
    for (const addr of Array.isArray(spec.addr) ? spec.addr : [spec.addr]) spans[spec.fn].push([addr, addr + WORDS[spec.type]]);
    if (spec.scaleFactorAddr !== undefined) spans[spec.fn].push([spec.scaleFactorAddr, spec.scaleFactorAddr + 1]);
  }
  const maxGap = model.blocks?.maxGap ?? 0;
  const maxCount = model.blocks?.maxCount ?? DEFAULT_MAX_COUNT;
  const out: ReadBlock[] = [];
  for (const fn of ['input', 'holding'] as const) {
    let cur: [number, number] | null = null;
    for (const [start, end] of spans[fn].sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
      if (cur && start - cur[1] <= maxGap && Math.max(cur[1], end) - cur[0] <= maxCount) {
        cur[1] = Math.max(cur[1], end);
        continue;
      }
      if (cur) out.push({ fn, addr: cur[0], count: cur[1] - cur[0] });
      cur = [start, end];
    }
    if (cur) out.push({ fn, addr: cur[0], count: cur[1] - cur[0] });
  }
  return out;
}

function specs(model: MeterModel): Array<ScalarReadingSpec | PhaseReadingSpec> {
  return Object.values(model.readings).filter((s): s is ScalarReadingSpec | PhaseReadingSpec => s !== undefined);
}

/** Registers read from a device, as a RegisterSource. */
export function registerMap(blocks: Array<ReadBlock & { data: number[] }>): RegisterSource {
  const maps: Record<FunctionKind, Map<number, number>> = { input: new Map(), holding: new Map() };
  for (const b of blocks) b.data.forEach((v, i) => maps[b.fn].set(b.addr + i, v));
  return (fn, addr) => maps[fn].get(addr);
}

/** The shortest decimal that is the same float32: 230.1 rather than 230.10000610351562. */
function shortestFloat32(f: number): number {
  if (!Number.isFinite(f)) return f;
  for (let p = 1; p <= 9; p++) {
    const c = Number(f.toPrecision(p));
    if (Math.fround(c) === f) return c;
  }
  return f;
}

/** Decodes the raw (unscaled) value of one register type from its words; wordOrder little = least significant word first. */
export function rawValue(type: ScalarReadingSpec['type'], words: number[], wordOrder: 'big' | 'little'): number {
  const ordered = wordOrder === 'little' ? [...words].reverse() : words;
  const buf = Buffer.alloc(ordered.length * 2);
  ordered.forEach((w, i) => buf.writeUInt16BE(w & 0xffff, i * 2));
  switch (type) {
    case 'int16': return buf.readInt16BE(0);
    case 'uint16': return buf.readUInt16BE(0);
    case 'int32': return buf.readInt32BE(0);
    case 'uint32': return buf.readUInt32BE(0);
    case 'float32': return shortestFloat32(buf.readFloatBE(0));
    case 'int64': return Number(buf.readBigInt64BE(0));
    case 'uint64': return Number(buf.readBigUInt64BE(0));
    case 'float64': return buf.readDoubleBE(0);
  }
}

/** A scale factor outside this range is SunSpec's "not implemented" (0x8000) or garbage. */
const MAX_EXPONENT = 10;

/** One value at one address, scaled; undefined when the device says it is not available. */
function decodeOne(spec: ScalarReadingSpec | PhaseReadingSpec, addr: number, model: MeterModel, regs: RegisterSource): number | undefined {
  const words: number[] = [];
  for (let i = 0; i < WORDS[spec.type]; i++) {
    const w = regs(spec.fn, addr + i);
    if (w === undefined) throw new Error(`${spec.fn} register ${addr + i} was not read`);
    words.push(w);
  }
  const raw = rawValue(spec.type, words, spec.wordOrder ?? model.encoding.wordOrder);
  if (!Number.isFinite(raw) || (spec.unavailable !== undefined && raw === spec.unavailable)) return undefined;
  let value = raw * (spec.scale ?? 1);
  if (spec.scaleFactorAddr !== undefined) {
    const sfWord = regs(spec.fn, spec.scaleFactorAddr);
    if (sfWord === undefined) throw new Error(`${spec.fn} register ${spec.scaleFactorAddr} was not read`);
    const exponent = rawValue('int16', [sfWord], 'big');
    if (Math.abs(exponent) > MAX_EXPONENT) return undefined;
    value *= 10 ** exponent;
  }
  // Drop binary noise from the scaling (2301 * 0.1 = 230.10000000000002).
  return Number(value.toPrecision(12));
}

/**
 * Turns raw registers into a reading, following the model. A value the
 * device marks unavailable is left out; on a phase list, unavailable trailing
 * phases are dropped (a single-phase meter on a three-phase map) and any other
 * gap leaves the whole list out, so phases never shift.
 */
export function decodeReading(model: MeterModel, regs: RegisterSource): MeterReading {
  const out: MeterReading = {};
  for (const key of SCALAR_KEYS) {
    const spec = model.readings[key];
    if (!spec) continue;
    const v = decodeOne(spec, spec.addr, model, regs);
    if (v !== undefined) out[key] = v;
  }
  for (const key of PHASE_KEYS) {
    const spec = model.readings[key];
    if (!spec) continue;
    const values = spec.addr.map((a) => decodeOne(spec, a, model, regs));
    while (values.length && values[values.length - 1] === undefined) values.pop();
    if (values.length && values.every((v): v is number => v !== undefined)) out[key] = values;
  }
  return out;
}
