import { Type, type StaticDecode } from '@sinclair/typebox';
import { Duration, Strict } from '../../core/schema.js';
import type { ConfigProblem } from '../../core/schema.js';

/** Group names: what a campaign's selection and the UI refer to. */
export const GROUP_NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
/** Charger ids as OCPP allows them in the WebSocket path (identity ≤ 48 characters). */
export const CHARGER_ID = Type.String({ minLength: 1, maxLength: 48, pattern: '^[^\\s/]+$', 'x-expected': 'a charger id' });
/** The most chargers a group, a campaign or an explicit list may hold. */
export const MAX_CHARGERS = 500;

export const FleetConfigSchema = Strict({
  groups: Type.Record(Type.String({ pattern: GROUP_NAME }), Type.Array(CHARGER_ID, { maxItems: MAX_CHARGERS }), {
    default: {},
    description: 'Named lists of charger ids a campaign may target, like garage-a: [CP1, CP2].',
  }),
  maxFirmwareBytes: Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024, default: 64 * 1024 * 1024, description: 'Largest firmware file an upload may be, in bytes (default 64 MiB).' }),
  installTimeout: Duration({ default: '30m', description: 'How long a charger has, from UpdateFirmware to its boot with the new version (or from Reset to its boot), before it counts as failed.' }),
  offlineWait: Duration({ default: '2h', description: 'How long a campaign waits for an offline charger to come back before it counts as failed.' }),
  linkTtl: Duration({ default: '2h', description: 'How long the download link a charger gets for an uploaded firmware file stays valid.' }),
  maxDownloads: Type.Integer({ minimum: 1, maximum: 50, default: 5, description: 'Requests one download link answers (a charger may retry or resume with Range) before it is refused.' }),
  checkEvery: Duration({ default: '10s', description: 'How often running campaigns look at deadlines and offline chargers (events move them at once besides).' }),
});

export type FleetConfig = StaticDecode<typeof FleetConfigSchema>;

/** A group that names the same charger twice is a typo worth telling at boot. */
export function validate(config: FleetConfig): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  for (const [name, ids] of Object.entries(config.groups)) {
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      if (seen.has(id)) found.push({ path: `groups.${name}[${i}]`, message: `${id} is listed twice in group ${name}` });
      seen.add(id);
    });
  }
  return found;
}
