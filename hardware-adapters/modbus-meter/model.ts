import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { parseDocument } from 'yaml';
import { Strict, problems, type ConfigProblem } from '../../core/schema.js';

/** Where the shipped meter models live: one `<model>.yaml` (+ `<model>.fixture.json`) per meter. */
export const MODELS_DIR = fileURLToPath(new URL('./models/', import.meta.url));

const lit = <T extends string>(...values: T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const REGISTER_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'int64', 'uint64', 'float64'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

/** Registers (16-bit words) each register type occupies. */
export const WORDS: Record<RegisterType, number> = {
  int16: 1, uint16: 1, int32: 2, uint32: 2, float32: 2, int64: 4, uint64: 4, float64: 4,
};

const Address = Type.Integer({ minimum: 0, maximum: 65535 });
const FunctionKind = lit('input', 'holding');
const WordOrder = lit('big', 'little');

const readingFields = {
  /** input = function code 4, holding = function code 3. */
  fn: FunctionKind,
  type: lit(...REGISTER_TYPES),
  /** Multiplies the raw value: 0.1 for a register in tenths, 1000 for a kWh register (the core wants Wh). */
  scale: Type.Optional(Type.Number()),
  /** A register holding a signed power-of-ten exponent applied to the value (SunSpec "sunssf"). */
  scaleFactorAddr: Type.Optional(Address),
  /** Overrides encoding.wordOrder for this reading. */
  wordOrder: Type.Optional(WordOrder),
  /** The raw value the device documents as "not available" (e.g. 0xFFFFFFFF); such a value is never published. */
  unavailable: Type.Optional(Type.Number()),
};

export const ScalarReadingSchema = Strict({ ...readingFields, addr: Address });
/** One address per phase, L1 first; a single-phase meter lists one. */
export const PhaseReadingSchema = Strict({ ...readingFields, addr: Type.Array(Address, { minItems: 1, maxItems: 3 }) });

export const TRANSPORTS = ['tcp', 'rtu', 'rtu-over-tcp'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export const ModelSchema = Strict({
  /** = the file name without .yaml; what a site config's `model:` refers to. */
  model: Type.String({ pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', description: 'a kebab-case name like eastron-sdm630' }),
  products: Type.Array(Strict({ brand: Type.String({ minLength: 1 }), name: Type.String({ minLength: 1 }) }), { minItems: 1 }),
  /** How the meter is usually reached, and its factory defaults (used when the site config leaves them out). */
  link: Strict({
    transports: Type.Array(lit(...TRANSPORTS), { minItems: 1 }),
    unitId: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
    baudRate: Type.Optional(Type.Integer({ minimum: 300 })),
    parity: Type.Optional(lit('none', 'even', 'odd')),
    stopBits: Type.Optional(lit('1', '2')),
  }),
  /** Applies to every multi-register value below. big = most significant word first. */
  encoding: Strict({ wordOrder: WordOrder }),
  /** How readings are grouped into requests: registers up to maxGap apart share one request of at most maxCount registers. */
  blocks: Type.Optional(Strict({
    maxGap: Type.Integer({ minimum: 0, maximum: 120 }),
    maxCount: Type.Integer({ minimum: 1, maximum: 125 }),
  })),
  /**
   * A SunSpec device: the addresses below are written for a device whose matching model header
   * sits at nominalHeader; at run time the real header is found by walking the SunSpec model
   * chain, and every address is shifted by (real header − nominalHeader).
   */
  sunspec: Type.Optional(Strict({
    /** SunSpec model IDs this file decodes (e.g. 201–204); the first one found in the chain is used. */
    models: Type.Array(Type.Integer({ minimum: 1, maximum: 65534 }), { minItems: 1 }),
    /** Holding register of that model's header (ID, length) on the device the addresses were written for. */
    nominalHeader: Address,
  })),
  /** Key = field of the MeterReading, unit in the name. Omit what the meter does not measure. */
  readings: Strict({
    powerW: Type.Optional(ScalarReadingSchema),
    energyImportWh: Type.Optional(ScalarReadingSchema),
    energyExportWh: Type.Optional(ScalarReadingSchema),
    voltageV: Type.Optional(PhaseReadingSchema),
    currentA: Type.Optional(PhaseReadingSchema),
    frequencyHz: Type.Optional(ScalarReadingSchema),
    powerFactor: Type.Optional(ScalarReadingSchema),
  }),
});

export type MeterModel = Static<typeof ModelSchema>;
export type ScalarReadingSpec = Static<typeof ScalarReadingSchema>;
export type PhaseReadingSpec = Static<typeof PhaseReadingSchema>;
export type FunctionKind = Static<typeof FunctionKind>;

export const SCALAR_KEYS = ['powerW', 'energyImportWh', 'energyExportWh', 'frequencyHz', 'powerFactor'] as const;
export const PHASE_KEYS = ['voltageV', 'currentA'] as const;
export type ScalarKey = (typeof SCALAR_KEYS)[number];
export type PhaseKey = (typeof PHASE_KEYS)[number];

/** One decoded set of values from a meter. W, Wh, V, A, Hz; powerFactor is -1..1. */
export interface MeterReading {
  powerW?: number;
  energyImportWh?: number;
  energyExportWh?: number;
  /** Per phase, L1 first. */
  voltageV?: number[];
  currentA?: number[];
  frequencyHz?: number;
  powerFactor?: number;
}

/** Raw registers → expected readings, replayed by the contract test. Keys are addresses ("0x0034" or "52"). */
export const FixtureSchema = Strict({
  description: Type.Optional(Type.String()),
  registers: Strict({
    input: Type.Optional(Type.Record(Type.String({ pattern: '^(0x[0-9A-Fa-f]+|[0-9]+)$' }), Type.Integer({ minimum: 0, maximum: 65535 }))),
    holding: Type.Optional(Type.Record(Type.String({ pattern: '^(0x[0-9A-Fa-f]+|[0-9]+)$' }), Type.Integer({ minimum: 0, maximum: 65535 }))),
  }),
  expected: Strict({
    powerW: Type.Optional(Type.Number()),
    energyImportWh: Type.Optional(Type.Number()),
    energyExportWh: Type.Optional(Type.Number()),
    voltageV: Type.Optional(Type.Array(Type.Number())),
    currentA: Type.Optional(Type.Array(Type.Number())),
    frequencyHz: Type.Optional(Type.Number()),
    powerFactor: Type.Optional(Type.Number()),
  }),
});
export type Fixture = Static<typeof FixtureSchema>;

/** A model or fixture file that cannot be used; the message names the file and each bad field. */
export class ModelError extends Error {
  constructor(readonly file: string, readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${file}: ${p.path}: ${p.message}`).join('\n'));
    this.name = 'ModelError';
  }
}

function display(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ModelError(display(file), [{ path: '(file)', message: `cannot read: ${(err as Error).message}` }]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ModelError(display(file), doc.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0] ?? e.message })));
  }
  return doc.toJS();
}

/** Checks what the schema cannot: the name matches the file, and every value fits in the register space. */
function semanticProblems(model: MeterModel, file: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const expectedName = basename(file).replace(/\.ya?ml$/, '');
  if (model.model !== expectedName) {
    out.push({ path: 'model', message: `expected "${expectedName}" (the file name), got "${model.model}"` });
  }
  const entries = Object.entries(model.readings) as Array<[string, ScalarReadingSpec | PhaseReadingSpec | undefined]>;
  if (entries.every(([, spec]) => spec === undefined)) {
    out.push({ path: 'readings', message: 'is empty; a model needs at least one reading' });
  }
  for (const [key, spec] of entries) {
    if (!spec) continue;
    const addrs = Array.isArray(spec.addr) ? spec.addr : [spec.addr];
    addrs.forEach((a, i) => {
      if (a + WORDS[spec.type] > 65536) {
        out.push({ path: `readings.${key}.addr${Array.isArray(spec.addr) ? `[${i}]` : ''}`, message: `${spec.type} at ${a} runs past register 65535` });
      }
    });
    if (model.sunspec && spec.fn !== 'holding') {
      out.push({ path: `readings.${key}.fn`, message: `expected holding (a SunSpec map is holding registers), got ${spec.fn}` });
    }
    if (spec.scaleFactorAddr !== undefined && spec.type.startsWith('float')) {
      out.push({ path: `readings.${key}.scaleFactorAddr`, message: `applies to integer types only, got type ${spec.type}` });
    }
  }
  return out;
}

/** Reads and checks one model file; throws ModelError naming the file and each bad field. */
export function loadModelFile(file: string): MeterModel {
  const raw = readYaml(file);
  const found = problems(ModelSchema, raw);
  if (found.length) throw new ModelError(display(file), found);
  const model = raw as MeterModel;
  const more = semanticProblems(model, file);
  if (more.length) throw new ModelError(display(file), more);
  return model;
}

export interface ModelSet {
  /** Every valid model by name, sorted by name. */
  models: Map<string, MeterModel>;
  /** Files that could not be used, by model name (the file name). */
  broken: Map<string, ModelError>;
}

/** Loads every `*.yaml` in a folder (synchronously: they are small, and read once at validation/registration). */
export function loadModels(dir: string = MODELS_DIR): ModelSet {
  const models = new Map<string, MeterModel>();
  const broken = new Map<string, ModelError>();
  for (const name of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const file = join(dir, name);
    try {
      const model = loadModelFile(file);
      models.set(model.model, model);
    } catch (err) {
      if (!(err instanceof ModelError)) throw err;
      broken.set(name.replace(/\.ya?ml$/, ''), err);
    }
  }
  return { models, broken };
}

/** Reads and checks a `<model>.fixture.json`. */
export function loadFixture(file: string): Fixture {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ModelError(display(file), [{ path: '(file)', message: (err as Error).message }]);
  }
  const found = problems(FixtureSchema, raw);
  if (found.length) throw new ModelError(display(file), found);
  return raw as Fixture;
}
