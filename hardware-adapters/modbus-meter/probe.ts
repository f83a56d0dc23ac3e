import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '../../core/log.js';
import { parseDuration } from '../../core/schema.js';
import { decodeReading, registerMap } from './decode.js';
import { ModbusLink, linkKey, type LinkOptions } from './link.js';
import { loadModels, type MeterModel, type MeterReading } from './model.js';
import { implausible, readBlocks } from './read.js';
import { locateModel, locateSunSpec, nominalMap, placeModel } from './sunspec.js';

const USAGE = `Reads a Modbus energy meter once and prints what it measures.

  npm run meter:probe -- --host 192.168.1.50 [--port 502] [--transport tcp|rtu-over-tcp] [--unit 1] [--model eastron-sdm630]
  npm run meter:probe -- --device /dev/ttyUSB0 [--baud 9600] [--parity none|even|odd] [--unit 1] [--model eastron-sdm120]

Without --model every known model is tried and the ones giving plausible values are listed.
Options: --timeout 1s (per request), --fixture (with --model: print a <model>.fixture.json from the live registers),
         --list (print the known models).`;

const UNITS: Record<keyof MeterReading, string> = {
  powerW: 'W', energyImportWh: 'Wh', energyExportWh: 'Wh', voltageV: 'V', currentA: 'A', frequencyHz: 'Hz', powerFactor: '',
};

function format(r: MeterReading): string[] {
  return (Object.keys(UNITS) as Array<keyof MeterReading>).filter((k) => r[k] !== undefined).map((k) => {
    const v = r[k]!;
    const text = Array.isArray(v) ? v.join(' / ') : String(v);
    const kwh = k.startsWith('energy') ? `  (${(Number(v) / 1000).toFixed(3)} kWh)` : '';
    return `  ${k.padEnd(16)}${text} ${UNITS[k]}${kwh}`.trimEnd();
  });
}

function summary(r: MeterReading): string {
  const parts: string[] = [];
  if (r.powerW !== undefined) parts.push(`${r.powerW} W`);
  if (r.voltageV) parts.push(`${r.voltageV.join('/')} V`);
  if (r.frequencyHz !== undefined) parts.push(`${r.frequencyHz} Hz`);
  if (r.energyImportWh !== undefined) parts.push(`${r.energyImportWh} Wh imported`);
  return parts.join(', ');
}

const hex = (a: number) => `0x${a.toString(16).toUpperCase().padStart(4, '0')}`;

/** Runs the CLI; returns the exit code. Output goes through `out` so tests can read it. */
export async function main(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        host: { type: 'string' }, port: { type: 'string' }, transport: { type: 'string' },
        device: { type: 'string' }, baud: { type: 'string' }, parity: { type: 'string' },
        unit: { type: 'string' }, model: { type: 'string' }, timeout: { type: 'string', default: '1s' },
        fixture: { type: 'boolean', default: false }, list: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    out(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { models, broken } = loadModels();
  for (const err of broken.values()) out(`warning: ${err.message}`);
  if (args.help) {
    out(USAGE);
    return 0;
  }
  if (args.list) {
    for (const m of models.values()) out(`${m.model.padEnd(22)}${m.products.map((p) => `${p.brand} ${p.name}`).join(', ')}`);
    return 0;
  }
  const fail = (message: string) => {
    out(`${message}\n\n${USAGE}`);
    return 2;
  };
  if ((args.host === undefined) === (args.device === undefined)) return fail('give either --host or --device');
  let model: MeterModel | undefined;
  if (args.model !== undefined) {
    model = models.get(args.model);
    if (!model) return fail(`--model: expected one of ${[...models.keys()].join(', ')}, got "${args.model}"`);
  }
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(args.timeout!);
  } catch (err) {
    return fail(`--timeout: ${(err as Error).message}`);
  }
  const int = (name: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a whole number, got "${text}"`);
    return n;
  };
  let link: LinkOptions;
  let unitId: number;
  try {
    unitId = int('unit', args.unit, model?.link.unitId ?? 1);
    if (args.device !== undefined) {
      const parity = args.parity ?? model?.link.parity ?? 'none';
      if (!['none', 'even', 'odd'].includes(parity)) throw new Error(`--parity: expected one of none, even, odd, got "${parity}"`);
      link = { transport: 'rtu', device: args.device, baudRate: int('baud', args.baud, model?.link.baudRate ?? 9600), parity: parity as 'none' };
    } else {
      const transport = args.transport ?? 'tcp';
      if (transport !== 'tcp' && transport !== 'rtu-over-tcp') throw new Error(`--transport: expected one of tcp, rtu-over-tcp, got "${transport}"`);
      link = { transport, host: args.host, port: int('port', args.port, 502) };
    }
  } catch (err) {
    return fail((err as Error).message);
  }

  const bus = new ModbusLink(link, createLogger('error', 'probe', () => undefined), { initialMs: 0, maxMs: 0 });
  try {
    if (model) {
      // With --fixture the output is the JSON file alone, so it can be redirected into one; its description names the device.
      if (!args.fixture) out(`${model.model} (${model.products.map((p) => `${p.brand} ${p.name}`).join(', ')}) at ${linkKey(link)} unit ${unitId}`);
      const at = model.sunspec ? await locateSunSpec(bus, model, unitId, timeoutMs) : undefined;
      const located = at ? placeModel(bus, model, unitId, at) : model;
      const where = at ? `SunSpec model ${at.id} at holding register ${at.header} (map at ${at.base}, addresses shifted by ${at.shift})` : '';
      const blocks = await readBlocks(bus, located, unitId, timeoutMs);
      const reading = decodeReading(located, registerMap(blocks));
      if (args.fixture) {
        // Recorded at the file's own addresses, with a SunSpec chain leading there, so the fixture replays against the file.
        const shift = at?.shift ?? 0;
        const raw: Record<'input' | 'holding', Map<number, number>> = { input: new Map(), holding: new Map() };
        if (at) for (const [a, v] of Object.entries(nominalMap(model, at))) raw.holding.set(Number(a), v);
        for (const b of blocks) b.data.forEach((v, i) => raw[b.fn].set(b.addr + i - shift, v));
        const registers: Record<string, Record<string, number>> = {};
        for (const fn of ['input', 'holding'] as const) {
          if (raw[fn].size) registers[fn] = Object.fromEntries([...raw[fn]].sort((x, y) => x[0] - y[0]).map(([a, v]) => [hex(a), v]));
        }
        const description = `recorded from ${model.model} at ${linkKey(link)} unit ${unitId}${at ? `; ${where}` : ''}`;
        out(JSON.stringify({ description, registers, expected: reading }, null, 2));
        return 0;
      }
      if (at) out(`  ${where}`);
      for (const line of format(reading)) out(line);
      const why = implausible(reading);
      if (why.length) out(`  looks wrong for this model: ${why.join('; ')}`);
      return 0;
    }
    out(`Trying ${models.size} models at ${linkKey(link)} unit ${unitId}:`);
    let plausible = 0;
    for (const m of models.values()) {
      let line: string;
      try {
        const located = await locateModel(bus, m, unitId, timeoutMs);
        const reading = decodeReading(located, registerMap(await readBlocks(bus, located, unitId, timeoutMs)));
        const why = implausible(reading);
        if (why.length === 0) plausible++;
        line = why.length === 0 ? `  plausible     ${m.model.padEnd(22)}${summary(reading)}` : `  implausible   ${m.model.padEnd(22)}${why.join('; ')}`;
      } catch (err) {
        line = `  no answer     ${m.model.padEnd(22)}${(err as Error).message}`;
      }
      out(line);
    }
    out(plausible ? `${plausible} model(s) fit; run again with --model <name> for all values.` : 'No model gave plausible values: check the unit id, the link settings and the wiring.');
    return plausible ? 0 : 1;
  } catch (err) {
    out(`error: ${(err as Error).message}`);
    return 1;
  } finally {
    await bus.close();
  }
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2));
}
