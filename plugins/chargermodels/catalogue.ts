import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { parseDocument } from 'yaml';
import { Strict, problems, type ConfigProblem } from '../../core/schema.js';
import { configurationKeyProblem, isSecurityConfigurationKey } from '../../core/ocpp/commands/configuration.js';
import { firmwareMatches, literalLength, patternMatches } from './match.js';

/** Where the shipped catalogue lives: one `<vendor>-<model>.yaml` per charger model. */
export const MODELS_DIR = fileURLToPath(new URL('./models/', import.meta.url));

const lit = <T extends string>(...values: T[]) => Type.Union(values.map((v) => Type.Literal(v)));

/** OCPP 1.6 measurands a unit hint may name. */
export const MEASURANDS = [
  'Energy.Active.Import.Register', 'Energy.Active.Export.Register', 'Energy.Reactive.Import.Register', 'Energy.Reactive.Export.Register',
  'Energy.Active.Import.Interval', 'Energy.Active.Export.Interval', 'Power.Active.Import', 'Power.Active.Export', 'Power.Offered',
  'Power.Reactive.Import', 'Power.Reactive.Export', 'Current.Import', 'Current.Export', 'Current.Offered', 'Voltage', 'Frequency',
  'Power.Factor', 'SoC', 'Temperature', 'RPM',
] as const;

/** OCPP 1.6 units of measure. */
export const UNITS = ['Wh', 'kWh', 'varh', 'kvarh', 'W', 'kW', 'VA', 'kVA', 'var', 'kvar', 'A', 'V', 'K', 'Celsius', 'Fahrenheit', 'Percent'] as const;

/** A vendor or model as the charger names itself, any case; `*` stands for any characters. */
const Pattern = Type.String({ minLength: 1, maxLength: 50, pattern: '^[^\\u0000-\\u001f]+$', description: 'a name as the charger reports it (any case, * = any characters)' });
const Version = Type.String({ pattern: '^[0-9]{1,9}(\\.[0-9]{1,9}){0,7}$', description: 'a dotted version like 1.4.7' });
/** A firmware version pattern ("4.*"), or a range of dotted versions: from (inclusive) and below (exclusive). */
const Firmware = Type.Union([Pattern, Strict({ from: Type.Optional(Version), below: Type.Optional(Version) })]);
export type FirmwareMatcher = Static<typeof Firmware>;

const Reason = Type.String({ minLength: 10, maxLength: 500, description: 'a sentence saying why' });

export const EntrySchema = Strict({
  /** = the file name without .yaml. */
  id: Type.String({ pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', maxLength: 60, description: 'a kebab-case name like keba-kc-p30' }),
  /** What the entry covers, for people ("KEBA KeContact P30 c-series and x-series"). */
  name: Type.String({ minLength: 1, maxLength: 120 }),
  /** chargePointVendor as the charger sends it in BootNotification. */
  vendor: Pattern,
  /** chargePointModel as the charger sends it. */
  model: Pattern,
  /** Only chargers running this firmware; without it every firmware. */
  firmware: Type.Optional(Firmware),
  /** Where the knowledge comes from (a manual, a forum thread, own testing); free text. */
  source: Type.Optional(Type.String({ maxLength: 500 })),
  /** What is sent once when a charger of this model is adopted. */
  adopt: Type.Optional(Strict({
    configuration: Type.Array(Strict({
      /** A configuration key: a name like MeterValueSampleInterval, or Component.Variable (Component[instance].Variable[instance]) for a model's device model variables. */
      key: Type.String({ minLength: 1, maxLength: 205, pattern: '^[A-Za-z0-9_.:+|@*\\[\\]\\-]+$', description: 'an OCPP configuration key like MeterValueSampleInterval, or Component.Variable like OCPPCommCtrlr.HeartbeatInterval' }),
      /** The value as OCPP sends it: always text (at most 500 characters). */
      value: Type.String({ maxLength: 500 }),
      why: Reason,
      /** Required, with a why, to change a key that decides who the charger trusts or lets charge. */
      security: Type.Optional(Type.Boolean()),
    }), { maxItems: 50 }),
  })),
  /** How to read sampled values this model sends with a missing or wrong unit. */
  units: Type.Optional(Type.Array(Strict({
    measurand: lit(...MEASURANDS),
    /** The unit its values are really in. */
    unit: lit(...UNITS),
    /** missing: only values sent without a unit; always: also when the charger names one (it names the wrong one). */
    when: lit('missing', 'always'),
    why: Reason,
  }), { maxItems: 20 })),
  /** Firmware bugs known for this model, shown for a charger running an affected firmware. */
  bugs: Type.Optional(Type.Array(Strict({
    firmware: Firmware,
    summary: Reason,
    advice: Reason,
    /** Where it is reported (release notes, a bug tracker). */
    link: Type.Optional(Type.String({ maxLength: 300 })),
  }), { maxItems: 50 })),
});

export type CatalogueEntry = Static<typeof EntrySchema>;
export type ConfigurationItem = NonNullable<CatalogueEntry['adopt']>['configuration'][number];
export type KnownBug = NonNullable<CatalogueEntry['bugs']>[number];

/** An entry with where it came from and a revision of what it sends. */
export interface LoadedEntry extends CatalogueEntry {
  /** The file, relative to the working directory when below it. */
  file: string;
  /** First 12 hex digits of a hash of adopt.configuration: changes when what is sent changes. */
  revision: string;
}

/** A catalogue file that cannot be used; the message names the file and each bad field. */
export class CatalogueError extends Error {
  constructor(readonly file: string, readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${file}: ${p.path}: ${p.message}`).join('\n'));
    this.name = 'CatalogueError';
  }
}

function display(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

/** A key that command-roles.ts keeps for installers: who the charger trusts or lets charge, or a secret (either way of writing keys). */
export const isSecurityKey = (key: string): boolean => isSecurityConfigurationKey(key);

/** Checks what the schema cannot: the id matches the file, keys are unique, patterns say something. */
function semanticProblems(e: CatalogueEntry, file: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const expected = basename(file).replace(/\.ya?ml$/, '');
  if (e.id !== expected) out.push({ path: 'id', message: `expected "${expected}" (the file name), got "${e.id}"` });
  // An entry for every charger would reconfigure chargers nobody meant to touch.
  if (literalLength(e.vendor) < 2) out.push({ path: 'vendor', message: `needs at least 2 characters besides *, got "${e.vendor}"` });
  const seen = new Set<string>();
  (e.adopt?.configuration ?? []).forEach((c, i) => {
    if (seen.has(c.key.toLowerCase())) out.push({ path: `adopt.configuration[${i}].key`, message: `${c.key} is listed twice` });
    // A Component.Variable key is checked now; whether the charger speaks the version that takes it shows when it is sent.
    const bad = configurationKeyProblem(c.key);
    if (bad) out.push({ path: `adopt.configuration[${i}].key`, message: bad });
    seen.add(c.key.toLowerCase());
  });
  const emptyRange = (f: FirmwareMatcher | undefined) => typeof f === 'object' && f.from === undefined && f.below === undefined;
  if (emptyRange(e.firmware)) out.push({ path: 'firmware', message: 'names neither from nor below; leave it out to match every firmware' });
  (e.bugs ?? []).forEach((b, i) => {
    if (emptyRange(b.firmware)) out.push({ path: `bugs[${i}].firmware`, message: 'names neither from nor below; a bug needs the firmware it affects' });
  });
  const measurands = new Set<string>();
  (e.units ?? []).forEach((u, i) => {
    if (measurands.has(u.measurand)) out.push({ path: `units[${i}].measurand`, message: `${u.measurand} is listed twice` });
    measurands.add(u.measurand);
  });
  return out;
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CatalogueError(display(file), [{ path: '(file)', message: `cannot read: ${(err as Error).message}` }]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new CatalogueError(display(file), doc.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0] ?? e.message })));
  }
  return doc.toJS();
}

export function revisionOf(e: CatalogueEntry): string {
  const sent = (e.adopt?.configuration ?? []).map((c) => [c.key, c.value, Boolean(c.security)]);
  return createHash('sha256').update(JSON.stringify(sent)).digest('hex').slice(0, 12);
}

/** Reads and checks one catalogue file; throws CatalogueError naming the file and each bad field. */
export function loadEntryFile(file: string): LoadedEntry {
  const raw = readYaml(file);
  const found = problems(EntrySchema, raw);
  if (found.length) throw new CatalogueError(display(file), found);
  const entry = raw as CatalogueEntry;
  const more = semanticProblems(entry, file);
  if (more.length) throw new CatalogueError(display(file), more);
  return { ...entry, file: display(file), revision: revisionOf(entry) };
}

export interface Catalogue {
  /** Every entry by id, sorted by id; a site folder's entry replaces a shipped one of the same id. */
  entries: Map<string, LoadedEntry>;
  /** Files that could not be used. */
  errors: CatalogueError[];
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f));
}

/** Loads the shipped files and then a site's own folder (synchronously: a few small files, read at boot). */
export function loadCatalogue(dirs: string[] = [MODELS_DIR]): Catalogue {
  const entries = new Map<string, LoadedEntry>();
  const errors: CatalogueError[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      errors.push(new CatalogueError(display(dir), [{ path: '(folder)', message: 'is not a readable folder' }]));
      continue;
    }
    for (const file of yamlFiles(dir)) {
      try {
        const e = loadEntryFile(file);
        entries.set(e.id, e);
      } catch (err) {
        if (!(err instanceof CatalogueError)) throw err;
        errors.push(err);
      }
    }
  }
  return { entries: new Map([...entries].sort(([a], [b]) => (a < b ? -1 : 1))), errors };
}

/** What a charger says it is (BootNotification), as stored. */
export interface ChargerIdentity { vendor: string | null; model: string | null; firmwareVersion: string | null }

/**
 * The entry for a charger: among those whose vendor, model and firmware match, the one with the
 * most literal characters in its vendor and model patterns (the most specific), then the one that
 * names a firmware, then the first by id.
 */
export function matchEntry(entries: Iterable<LoadedEntry>, c: ChargerIdentity): LoadedEntry | null {
  if (c.vendor === null || c.model === null) return null;
  let best: LoadedEntry | null = null;
  let bestScore = -1;
  for (const e of entries) {
    if (!patternMatches(e.vendor, c.vendor) || !patternMatches(e.model, c.model)) continue;
    if (e.firmware !== undefined && !firmwareMatches(e.firmware, c.firmwareVersion)) continue;
    const score = (literalLength(e.vendor) + literalLength(e.model)) * 2 + (e.firmware !== undefined ? 1 : 0);
    if (score > bestScore) {
      best = e;
      bestScore = score;
    }
  }
  return best;
}

/** The entry's known bugs that affect this firmware. */
export function bugsFor(e: CatalogueEntry, firmwareVersion: string | null): KnownBug[] {
  return (e.bugs ?? []).filter((b) => firmwareMatches(b.firmware, firmwareVersion));
}
