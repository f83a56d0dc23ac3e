import { Type, type StaticDecode } from '@sinclair/typebox';
import { Duration, Strict, type ConfigProblem } from '../../core/schema.js';

export const ReservationsConfigSchema = Strict({
  maxActivePerUser: Type.Integer({ minimum: 1, maximum: 20, default: 1, description: 'Reservations one driver may hold at the same time.' }),
  maxDuration: Duration({ default: '30m', description: 'The longest a reservation holds a connector, at least 1m; also its default length.' }),
  queueHold: Duration({ default: '5m', description: 'How long a waitlist offer holds a freed connector for the driver at the head of the line, at least 30s.' }),
  // So a forgotten place does not hold a connector hours later.
  queueMaxWait: Duration({ default: '12h', description: 'A driver still waiting after this long leaves the line and is told, at least 10m.' }),
  enforceLocally: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { default: [], description: 'Charger ids whose reservations the appliance enforces itself, without sending them to the charger.' }),
  connectorZero: Type.Boolean({ default: false, description: 'Allow reserving connector 0 ("any connector of this charger"); the charger must support it (ReserveConnectorZeroSupported).' }),
  maxQueue: Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'Drivers waiting in line at once, site-wide; more are refused.' }),
});

export type ReservationsConfig = StaticDecode<typeof ReservationsConfigSchema>;

export function validate(c: ReservationsConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (c.maxDuration < 60_000) out.push({ path: 'maxDuration', message: `expected at least 1m, got ${c.maxDuration / 1000}s` });
  if (c.queueHold < 30_000) out.push({ path: 'queueHold', message: `expected at least 30s, got ${c.queueHold / 1000}s` });
  if (c.queueMaxWait < 10 * 60_000) out.push({ path: 'queueMaxWait', message: `expected at least 10m, got ${c.queueMaxWait / 60_000}m` });
  return out;
}
