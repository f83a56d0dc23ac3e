import { decodeReading, planReads, registerMap, type ReadBlock } from './decode.js';
import type { ModbusLink } from './link.js';
import type { MeterModel, MeterReading } from './model.js';

/** Reads every register block the model needs, one request at a time through the bus queue. */
export async function readBlocks(link: ModbusLink, model: MeterModel, unitId: number, timeoutMs: number): Promise<Array<ReadBlock & { data: number[] }>> {
  const blocks: Array<ReadBlock & { data: number[] }> = [];
  for (const block of planReads(model)) {
    blocks.push({ ...block, data: await link.read({ unitId, ...block, timeoutMs }) });
  }
  return blocks;
}

/** Reads and decodes one meter. */
export async function readMeter(link: ModbusLink, model: MeterModel, unitId: number, timeoutMs: number): Promise<MeterReading> {
  return decodeReading(model, registerMap(await readBlocks(link, model, unitId, timeoutMs)));
}

/**
 * Whether a reading looks like a real meter's, for the probe CLI guessing a
 * model: mains voltage and frequency in range, power, energy and power factor
 * within physical bounds. Reasons are returned for what does not fit.
 */
export function implausible(r: MeterReading): string[] {
  const why: string[] = [];
  const mains = (r.voltageV ?? []).some((v) => v >= 80 && v <= 300) || (r.frequencyHz !== undefined && r.frequencyHz >= 45 && r.frequencyHz <= 65);
  if (!mains) why.push('no mains voltage or frequency');
  // An unwired phase may read 0 V; anything else outside mains range is a wrong map.
  for (const v of r.voltageV ?? []) if (!(v === 0 || (v >= 80 && v <= 300))) why.push(`voltage ${v} V`);
  for (const a of r.currentA ?? []) if (!(a >= -2000 && a <= 2000)) why.push(`current ${a} A`);
  if (r.frequencyHz !== undefined && !(r.frequencyHz >= 45 && r.frequencyHz <= 65)) why.push(`frequency ${r.frequencyHz} Hz`);
  if (r.powerW !== undefined && !(Math.abs(r.powerW) <= 1_000_000)) why.push(`power ${r.powerW} W`);
  for (const key of ['energyImportWh', 'energyExportWh'] as const) {
    const e = r[key];
    if (e !== undefined && !(e >= 0 && e < 1e12)) why.push(`${key} ${e}`);
  }
  if (r.powerFactor !== undefined && !(Math.abs(r.powerFactor) <= 1.0001)) why.push(`power factor ${r.powerFactor}`);
  return why;
}
