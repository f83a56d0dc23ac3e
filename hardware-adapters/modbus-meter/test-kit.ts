import { afterAll, beforeAll } from 'vitest';
import { createLogger } from '../../core/log.js';
import { useTeardown } from '../../tests/kit/index.js';
import { ModbusLink } from './link.js';
import { MeterSimulator } from './simulator.js';

/**
 * For one describe block: a Modbus TCP meter simulator on loopback and a
 * link to it, opened before its tests and closed after. Read `sim` and
 * `link` inside the tests.
 */
export function simulatorWithLink(): { sim: MeterSimulator; link: ModbusLink } {
  const kit = {} as { sim: MeterSimulator; link: ModbusLink };
  beforeAll(async () => {
    kit.sim = await MeterSimulator.start();
    kit.link = new ModbusLink({ transport: 'tcp', host: '127.0.0.1', port: kit.sim.port }, createLogger('error', 'test', () => undefined));
  });
  afterAll(async () => {
    await kit.link?.close();
    await kit.sim?.stop();
  });
  return kit;
}

/**
 * For one file or describe block: `simulator()` starts a Modbus meter
 * simulator that stops after the test that started it; `defer` takes any
 * other cleanup (links, pools), undone newest first with the simulators.
 */
export function useSimulators() {
  const defer = useTeardown();
  return {
    defer,
    async simulator(opts: Parameters<typeof MeterSimulator.start>[0] = {}): Promise<MeterSimulator> {
      const sim = await MeterSimulator.start(opts);
      defer(() => sim.stop());
      return sim;
    },
  };
}
