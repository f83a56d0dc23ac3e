import { defineCheck } from '../check.js';

/** What to do about each kind of load-management problem. */
const ADVICE = {
  unsupported: {
    cause: 'the charger does not implement OCPP Smart Charging, or it is turned off in its settings',
    action: 'Enable Smart Charging in the charger\'s settings or update its firmware; until then give it a fixed current limit in its own settings and set its maxCurrent in the circuit to match.',
  },
  refused: {
    cause: 'the charger refused the charging profile (a profile limit, stack level or unit it does not take)',
    action: 'Check ChargeProfileMaxStackLevel and ChargingScheduleAllowedChargingRateUnit in the charger\'s configuration, and its firmware release notes.',
  },
  'ignores-limit': {
    cause: 'the charger accepts charging profiles but does not apply them (a firmware fault, or a local setting that overrides them)',
    action: 'Update the charger\'s firmware and check that no local or app-set limit overrides the back end; until then give it a fixed current limit in its own settings.',
  },
  'meter-stale': {
    cause: 'the circuit\'s Modbus meter stopped sending readings (power, wiring or gateway)',
    action: 'See the meter\'s own finding; the chargers of the circuit are held at the failsafe current until the meter answers again.',
  },
  'failsafe-exceeds': {
    cause: 'a charger has more connectors than the circuit was planned for: each connector keeps failsafeCurrent when the appliance is gone',
    action: 'Lower failsafeCurrent in plugins.loadbalancing, or raise the circuit\'s maxCurrent if its fuse allows; until then a crash of the appliance with every connector busy could trip the fuse.',
  },
} as const;

export default defineCheck({
  id: 'load-management',
  summary: 'The load balancer cannot steer a charger (no Smart Charging, refuses or ignores its limit), no longer trusts a circuit meter, or a circuit\'s connectors at their failsafe exceed its fuse',
  config: {},
  state: () => null,
  on: {
    'loadbalancing.problem': async (e, cx) => {
      // One finding per charger, per circuit meter and per circuit.
      const key = { chargerId: e.chargerId, subKey: e.meterId ?? (e.kind === 'circuit' ? `circuit:${e.circuitId}` : 'charger') };
      if (!e.problem || !e.reason) return cx.clear(key);
      const what = e.kind === 'charger' ? `Charger ${e.chargerId} ${e.problem}.` : `Load management: ${e.problem}.`;
      await cx.raise({ ...key, severity: 'warning', since: e.at, problem: what, ...ADVICE[e.reason], detail: { reason: e.reason } });
    },
  },
});
