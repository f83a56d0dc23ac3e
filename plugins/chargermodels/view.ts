import type { AppliedKey } from './apply.js';
import { bugsFor, isSecurityKey, type ChargerIdentity, type LoadedEntry } from './catalogue.js';

/** GET /api/chargermodels/chargers/{id}: the matching entry, each key with its answer, unit fixes and known bugs. */
export function chargerView(chargerId: string, c: ChargerIdentity, entry: LoadedEntry | null, applied: AppliedKey[]) {
  const byKey = new Map(applied.map((a) => [a.key, a]));
  const configuration = (entry?.adopt?.configuration ?? []).map((item) => {
    const last = byKey.get(item.key) ?? null;
    return {
      key: item.key, value: item.value, why: item.why, security: isSecurityKey(item.key),
      // What the charger answered to this value; an answer to an older value is not this one's.
      status: last && last.value === item.value ? last.status : null,
      applied: last,
    };
  });
  return {
    chargerId, vendor: c.vendor, model: c.model, firmwareVersion: c.firmwareVersion,
    entry: entry ? { id: entry.id, name: entry.name, file: entry.file, revision: entry.revision, source: entry.source ?? null } : null,
    configuration,
    // Keys the charger took but only acts on after a reboot; ChargeKeeper does not reboot it.
    rebootRequired: configuration.filter((k) => k.status === 'RebootRequired').map((k) => k.key),
    units: entry?.units ?? [],
    knownBugs: entry ? bugsFor(entry, c.firmwareVersion) : [],
    // Keys sent earlier under an entry the charger no longer matches (its firmware changed, the catalogue changed).
    other: applied.filter((a) => !configuration.some((k) => k.key === a.key)),
  };
}
