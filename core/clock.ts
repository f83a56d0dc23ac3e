/**
 * The time source of the appliance. Tests move it forward with advance(),
 * which also runs every job that would have come due, so checks that wait
 * minutes or hours are tested in milliseconds.
 */
export class Clock {
  #offsetMs = 0;
  /** The last iso() and its millisecond: several per message ask for the same one. */
  #isoMs = Number.NaN;
  #isoText = '';
  #jobs = new Set<{ run: () => Promise<void> }>();

  now(): Date {
    return new Date(Date.now() + this.#offsetMs);
  }

  nowMs(): number {
    return Date.now() + this.#offsetMs;
  }

  iso(): string {
    const ms = Date.now() + this.#offsetMs;
    if (ms !== this.#isoMs) {
      this.#isoText = new Date(ms).toISOString();
      this.#isoMs = ms;
    }
    return this.#isoText;
  }

  /** Runs fn every intervalMs until the returned function is called. Runs never overlap. */
  every(intervalMs: number, fn: () => void | Promise<void>, onError: (err: unknown) => void): () => void {
    let running = false;
    const job = {
      run: async () => {
        if (running) return;
        running = true;
        try {
          await fn();
        } catch (err) {
          onError(err);
        } finally {
          running = false;
        }
      },
    };
    const timer = setInterval(() => void job.run(), intervalMs);
    timer.unref();
    this.#jobs.add(job);
    return () => {
      clearInterval(timer);
      this.#jobs.delete(job);
    };
  }

  /** Moves time forward and runs every scheduled job once. */
  async advance(ms: number): Promise<void> {
    this.#offsetMs += ms;
    for (const job of [...this.#jobs]) await job.run();
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * A cached Intl.DateTimeFormat: building one costs ~20 µs, so lists and
 * exports that format a date per row share one per locale, zone and style.
 */
export function dateFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    if (formatters.size > 200) formatters.clear();
    f = new Intl.DateTimeFormat(locale, options);
    formatters.set(key, f);
  }
  return f;
}
