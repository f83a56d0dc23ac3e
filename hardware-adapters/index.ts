import type { RegistryEntry } from '../core/host.js';

/** Hardware adapters, by the top-level config key that enables them. */
export const adapters: Record<string, RegistryEntry> = {};
