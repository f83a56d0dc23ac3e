import type { BootParts } from '../core/boot.js';
import { adapters } from '../hardware-adapters/index.js';
import { registry } from '../plugins/index.js';

/**
 * The composition root: what this build of the appliance is made of. The
 * core knows no plugin or adapter by name; it is handed these.
 */
export const siteParts: BootParts = { plugins: registry, adapters };
