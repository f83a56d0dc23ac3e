import type { ChargerView } from '../../core/services.js';
import type { FieldProblem } from '../../core/errors.js';
import type { Selection } from './store.js';

/** What a selection matches: the approved chargers meeting every criterion, in id order. */
export function select(chargers: ChargerView[], s: Selection, groups: Record<string, string[]>): ChargerView[] {
  const ids = s.chargerIds ? new Set(s.chargerIds) : null;
  const group = s.group !== undefined ? new Set(groups[s.group] ?? []) : null;
  return chargers
    .filter((c) => c.approved)
    .filter((c) => !ids || ids.has(c.id))
    .filter((c) => !group || group.has(c.id))
    .filter((c) => s.vendor === undefined || c.vendor === s.vendor)
    .filter((c) => s.model === undefined || c.model === s.model)
    .filter((c) => s.firmwareVersion === undefined || c.firmwareVersion === s.firmwareVersion)
    .sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
}

/** Problems of a selection against what the site knows: an unknown group or charger is named, not ignored. */
export function selectionProblems(s: Selection | undefined, chargers: ChargerView[], groups: Record<string, string[]>, field = 'selection'): FieldProblem[] {
  if (!s || typeof s !== 'object') return [];
  const found: FieldProblem[] = [];
  const criteria = ['chargerIds', 'group', 'vendor', 'model', 'firmwareVersion'] as const;
  if (!criteria.some((k) => s[k] !== undefined)) {
    found.push({ field, message: `name at least one of ${criteria.join(', ')}` });
  }
  if (typeof s.group === 'string' && !(s.group in groups)) {
    const known = Object.keys(groups);
    found.push({ field: `${field}.group`, message: `unknown group${known.length ? `; groups: ${known.join(', ')}` : '; none is configured (plugins.fleet.groups)'}` });
  }
  if (Array.isArray(s.chargerIds)) {
    const known = new Set(chargers.map((c) => c.id));
    const unknown = s.chargerIds.filter((id) => typeof id === 'string' && !known.has(id));
    if (unknown.length) found.push({ field: `${field}.chargerIds`, message: `unknown charger(s): ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ' …' : ''}` });
  }
  return found;
}

/** Chargers the API shows for a selection: id, name, model and firmware. */
export const selectedView = (c: ChargerView) => ({
  id: c.id, name: c.name, online: c.online, vendor: c.vendor, model: c.model, firmwareVersion: c.firmwareVersion,
});
