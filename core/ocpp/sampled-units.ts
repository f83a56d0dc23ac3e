/** How to read one measurand of one charger: the unit its values are really in. */
export interface UnitHint {
  /** An OCPP 1.6 unit of measure (Wh, kWh, W, kW, …). */
  unit: string;
  /** true: also when the charger names a unit (it names the wrong one); false: only when it names none. */
  replace: boolean;
}

/** Unit hints of one charger, by measurand. */
export type UnitHints = ReadonlyMap<string, UnitHint>;

/**
 * Unit corrections per charger, set by a plugin that knows the model (a charger that sends its
 * energy register in kWh without saying so) and read when its sampled values are parsed. The core
 * holds no model knowledge: without hints every value is read as OCPP says.
 */
export class SampledUnits {
  readonly #byCharger = new Map<string, UnitHints>();

  /** Replaces a charger's hints; none (or an empty map) reads its values as OCPP says again. */
  set(chargerId: string, hints: UnitHints | null): void {
    if (hints && hints.size) this.#byCharger.set(chargerId, hints);
    else this.#byCharger.delete(chargerId);
  }

  get(chargerId: string): UnitHints | undefined {
    return this.#byCharger.get(chargerId);
  }
}
