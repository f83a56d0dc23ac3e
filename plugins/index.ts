import type { RegistryEntry } from '../core/host.js';
import blueprint from './_blueprint/index.js';

/** Every plugin an installer can enable under `plugins:`, by config key. */
export const registry: Record<string, RegistryEntry> = {
  blueprint: { plugin: blueprint, dir: 'plugins/_blueprint' },
};
