import type { MeterValue } from '../v16/sampled-values.js';
import { meterRows, RESEND_KEY } from '../v16/meter-values.js';
import type { Handler } from '../context.js';

/** A 2.0.1 SampledValueType: a number, and a unit with a power-of-ten multiplier. */
export interface SampledValue201 {
  value: number; context?: string; measurand?: string; phase?: string; location?: string;
  unitOfMeasure?: { unit?: string; multiplier?: number };
}
export interface MeterValue201 { timestamp: string; sampledValue: SampledValue201[] }

/**
 * 2.0.1 readings in the 1.6 shape, so the one normaliser (v16/sampled-values.ts) turns both into the same
 * SI rows and samples. The multiplier is applied here; kWh and the like are then scaled as in 1.6.
 */
export function as16(values: MeterValue201[]): MeterValue[] {
  return values.map((mv) => ({
    timestamp: mv.timestamp,
    sampledValue: mv.sampledValue.map((sv) => {
      const m = sv.unitOfMeasure?.multiplier ?? 0;
      // Dividing for negative exponents keeps 123 × 10^-1 at 12.3 rather than 12.300000000000001.
      const value = m >= 0 ? sv.value * 10 ** m : sv.value / 10 ** -m;
      return {
        value: String(value),
        ...(sv.context ? { context: sv.context } : {}), ...(sv.measurand ? { measurand: sv.measurand } : {}),
        ...(sv.phase ? { phase: sv.phase } : {}), ...(sv.location ? { location: sv.location } : {}),
        ...(sv.unitOfMeasure?.unit ? { unit: sv.unitOfMeasure.unit } : {}),
      };
    }),
  }));
}

/**
 * Readings outside a transaction (TransactionEvent carries the session's own). evseId 0 is the
 * whole station's main meter, stored like a 1.6 connector 0.
 */
export const meterValues: Handler<{ evseId: number; meterValue: MeterValue201[] }, Record<string, never>> = async (ctx, cp, p) => {
  const { records, samples } = meterRows(ctx, cp.id, p.evseId, null, as16(p.meterValue));
  await ctx.writer.insert('meter_values', records, { ignoreOn: RESEND_KEY, patient: true });
  for (const s of samples) ctx.bus.emit('meter.sampled', s);
  return {};
};
