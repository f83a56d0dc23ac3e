import type { RegistryEntry } from '../core/host.js';
import meters from './modbus-meter/index.js';

/** Hardware adapters, by the top-level config key that enables them (not under `plugins:`). */
export const adapters: Record<string, RegistryEntry> = {
  meters: { plugin: meters, dir: 'hardware-adapters/modbus-meter' },
};
