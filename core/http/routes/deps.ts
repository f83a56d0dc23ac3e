import type { Knex } from 'knex';
import type { Accounts } from '../../accounts.js';
import type { AuditLog } from '../../audit.js';
import type { Bus } from '../../bus.js';
import type { Chargers } from '../../chargers.js';
import type { Clock } from '../../clock.js';
import type { Metrics } from '../../metrics.js';
import type { CoreConfig } from '../../config.js';
import type { OcppServer } from '../../ocpp/server.js';
import type { Readings } from '../../readings.js';
import type { HttpServer } from '../server.js';
import type { PluginStatus } from '../../host.js';

/** What the core's own routes need. */
export interface CoreRouteDeps {
  db: Knex;
  config: CoreConfig;
  version: string;
  startedAtMs: number;
  clock: Clock;
  bus: Bus;
  accounts: Accounts;
  audit: AuditLog;
  chargers: Chargers;
  ocpp: OcppServer;
  readings: Readings;
  http: HttpServer;
  metrics: Metrics;
  plugins(): PluginStatus[];
  /** A plugin's config schema and effective settings (unmasked). */
  pluginSettings(name: string): { schema: unknown; value: unknown } | undefined;
  /** The data directory, absolute. */
  dataDir: string;
  /** The SQLite database file; null on PostgreSQL. */
  databaseFile: string | null;
}
