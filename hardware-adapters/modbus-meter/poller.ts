import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/types.js';
import type { MeterConfig } from './config.js';
import type { ModbusLink } from './link.js';
import type { MeterModel, MeterReading } from './model.js';
import { readMeter } from './read.js';
import { locateModel } from './sunspec.js';
import { errorMessage } from '../../core/errors.js';

/** Consecutive failed polls after which a meter is reported unreachable. */
export const UNREACHABLE_AFTER = 3;
/** Longest wait between polls of a failing meter. */
const MAX_BACKOFF_MS = 60_000;

export interface PollerDeps {
  meter: MeterConfig;
  model: MeterModel;
  link: ModbusLink;
  unitId: number;
  clock: Clock;
  log: Logger;
  /** Whether the meter was unreachable when the appliance last stopped. */
  wasUnreachable: boolean;
  onSample(at: string, reading: MeterReading): Promise<void>;
  onUnreachable(at: string, error: string): Promise<void>;
  onReachable(at: string): Promise<void>;
}

/** Applies the install's `invert`: a meter mounted the other way round. */
export function orient(r: MeterReading, invert: boolean): MeterReading {
  if (!invert) return r;
  const out: MeterReading = { ...r };
  if (r.powerW !== undefined) out.powerW = r.powerW === 0 ? 0 : -r.powerW;
  delete out.energyImportWh;
  delete out.energyExportWh;
  if (r.energyExportWh !== undefined) out.energyImportWh = r.energyExportWh;
  if (r.energyImportWh !== undefined) out.energyExportWh = r.energyImportWh;
  return out;
}

/**
 * Polls one meter at its interval on its own timer. A failed poll is retried
 * with exponential backoff (pollInterval, 2×, 4× … up to a minute); after
 * UNREACHABLE_AFTER failures in a row the meter is reported unreachable once,
 * and reachable once when it answers again.
 */
export class MeterPoller {
  readonly id: string;
  /** The last decoded reading (oriented) and when it was taken. */
  reading: (MeterReading & { at: string }) | null = null;
  lastError: string | null = null;
  failures = 0;
  #state: 'unknown' | 'reachable' | 'unreachable';
  #deps: PollerDeps;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stopped = true;
  /** The model at this device's addresses (SunSpec: found once by walking its model chain). */
  #located: MeterModel | null = null;

  constructor(deps: PollerDeps) {
    this.#deps = deps;
    this.id = deps.meter.id;
    this.#state = deps.wasUnreachable ? 'unreachable' : 'unknown';
  }

  /** Answered its last poll, and not reported unreachable since. */
  get online(): boolean {
    return this.#state === 'reachable';
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const started = Date.now();
      this.#running = this.poll().finally(() => {
        this.#running = null;
        this.#schedule(Math.max(0, started + this.#nextDelay() - Date.now()));
      });
    }, delayMs);
  }

  #nextDelay(): number {
    const every = this.#deps.meter.pollInterval;
    if (this.failures === 0) return every;
    const cap = Math.max(every, Math.min(MAX_BACKOFF_MS, every * 16));
    return Math.min(every * 2 ** (this.failures - 1), cap);
  }

  /** One poll: read, publish, update reachability. Never throws. */
  async poll(): Promise<void> {
    const { meter, model, link, unitId, clock, log } = this.#deps;
    let reading: MeterReading;
    try {
      this.#located ??= await locateModel(link, model, unitId, meter.timeout);
      reading = orient(await readMeter(link, this.#located, unitId, meter.timeout), meter.invert);
    } catch (err) {
      await this.#failed(errorMessage(err));
      return;
    }
    const at = clock.iso();
    this.failures = 0;
    this.lastError = null;
    this.reading = { at, ...reading };
    if (this.#state === 'unreachable') {
      log.info(`meter ${meter.id} answers again`);
      await this.#guard(() => this.#deps.onReachable(at));
    }
    this.#state = 'reachable';
    await this.#guard(() => this.#deps.onSample(at, reading));
  }

  async #failed(error: string): Promise<void> {
    const { meter, clock, log } = this.#deps;
    this.failures++;
    this.lastError = error;
    log.debug(`meter ${meter.id}: poll failed (${this.failures} in a row): ${error}`);
    if (this.failures >= UNREACHABLE_AFTER && this.#state !== 'unreachable') {
      this.#state = 'unreachable';
      // It may come back as another device (a replaced meter or inverter) with its SunSpec model elsewhere.
      this.#located = null;
      log.warn(`meter ${meter.id} is unreachable after ${this.failures} failed polls: ${error}`);
      await this.#guard(() => this.#deps.onUnreachable(clock.iso(), error));
    }
  }

  async #guard(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.#deps.log.error(`meter ${this.id}: ${errorMessage(err)}`);
    }
  }
}
