import { afterAll, afterEach, beforeEach } from 'vitest';

type Cleanup = () => unknown;

/**
 * Registers the hooks of one scope (a describe, or the file when called at
 * top level) and returns `defer(fn)`. What is deferred while a test (or its
 * beforeEach) runs is undone after that test; what is deferred in a
 * beforeAll is undone after the scope's last test. Cleanups run newest
 * first, and one that fails does not keep the others from running.
 */
export function useTeardown(): (fn: Cleanup) => void {
  const perTest: Cleanup[] = [];
  const perScope: Cleanup[] = [];
  let inTest = false;
  const drain = async (list: Cleanup[]) => {
    const errors: unknown[] = [];
    for (const fn of list.splice(0).reverse()) {
      try { await fn(); } catch (err) { errors.push(err); }
    }
    if (errors.length) throw errors[0];
  };
  beforeEach(() => { inTest = true; });
  afterEach(async () => {
    inTest = false;
    await drain(perTest);
  });
  afterAll(() => drain(perScope));
  return (fn) => { (inTest ? perTest : perScope).push(fn); };
}
