import type { RegistryEntry } from '../core/host.js';
import blueprint from './_blueprint/index.js';
import users from './users/index.js';
import diagnostics from './diagnostics/index.js';
import alerts from './alerts/index.js';
import billing from './billing/index.js';
import reservations from './reservations/index.js';
import loadbalancing from './loadbalancing/index.js';
import homeassistant from './homeassistant/index.js';
import chargermodels from './chargermodels/index.js';
import fleet from './fleet/index.js';

/** Every plugin an installer can enable under `plugins:`, by config key. */
export const registry: Record<string, RegistryEntry> = {
  users: { plugin: users, dir: 'plugins/users' },
  diagnostics: { plugin: diagnostics, dir: 'plugins/diagnostics' },
  alerts: { plugin: alerts, dir: 'plugins/alerts' },
  billing: { plugin: billing, dir: 'plugins/billing' },
  reservations: { plugin: reservations, dir: 'plugins/reservations' },
  loadbalancing: { plugin: loadbalancing, dir: 'plugins/loadbalancing' },
  homeassistant: { plugin: homeassistant, dir: 'plugins/homeassistant' },
  chargermodels: { plugin: chargermodels, dir: 'plugins/chargermodels' },
  fleet: { plugin: fleet, dir: 'plugins/fleet' },
  blueprint: { plugin: blueprint, dir: 'plugins/_blueprint' },
};
