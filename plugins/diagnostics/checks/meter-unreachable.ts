import { defineCheck } from '../check.js';

export default defineCheck({
  id: 'meter-unreachable',
  summary: 'A Modbus site meter does not answer; clears when it answers (a reading or meter.reachable)',
  config: {},
  state: () => null,
  on: {
    'meter.unreachable': async (e, cx) => {
      await cx.raise({
        chargerId: null, subKey: e.meterId, severity: 'warning', since: e.at,
        problem: `Site meter ${e.meterId} does not answer (${e.error}).`,
        cause: 'the meter lost power, its Modbus cable or RS-485 adapter is loose or broken, the Modbus TCP gateway is offline, or its address (unit id, IP address, baud rate) changed',
        action: 'Check the meter\'s display for power; check the Modbus wiring (A/B swapped, termination) or the gateway\'s network link; compare unit id, address and baud rate with the site config.',
        detail: { meterId: e.meterId, error: e.error },
      });
    },
    'meter.reachable': (e, cx) => cx.clear({ chargerId: null, subKey: e.meterId }),
    'meter.sampled': async (e, cx) => {
      if (e.source === 'modbus' && e.meterId) await cx.clear({ chargerId: null, subKey: e.meterId });
    },
  },
});
