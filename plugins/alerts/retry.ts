/** How long a failed delivery waits before its next attempt: `first`, doubling per failure, at most `max`. */
export function retryDelay(retry: { first: number; max: number }, attempts: number): number {
  return Math.min(retry.max, retry.first * 2 ** Math.max(0, attempts - 1));
}

/**
 * Runs queued work one piece at a time, in order: a raise and the clear right after it are applied
 * in that order. A failure rejects its own caller only; the queue goes on. `idle()` waits for all queued.
 */
export function serialQueue() {
  let chain: Promise<unknown> = Promise.resolve();
  return {
    run<T>(fn: () => Promise<T>): Promise<T> {
      const run = chain.then(fn);
      chain = run.catch(() => undefined);
      return run;
    },
    idle: (): Promise<unknown> => chain,
  };
}
