import type { TariffDef } from './tariff.js';

/** A tariff that may apply: its id, whether it is the site default, and its current version. */
export interface Candidate { id: number; isDefault: boolean; def: TariffDef }

/** Who charges where. */
export interface Who {
  chargerId: string;
  /** null = the charger as a whole (a price asked before a connector is chosen). */
  connectorId: number | null;
  userId: number | null;
  /** Lower-case group (parent) idTags of the card, and the card itself. */
  groupKeys: string[];
}

/** Why a tariff applies, most specific first. */
export const RULES = ['connector+group', 'connector', 'charger+group', 'charger', 'group', 'default'] as const;
export type Rule = (typeof RULES)[number];

const SCORE: Record<Rule, number> = { 'connector+group': 5, connector: 4, 'charger+group': 3, charger: 2, group: 1, default: 0 };

/** How a tariff matches, or null when it does not apply here. */
export function matchRule(c: Candidate, who: Who): Rule | null {
  const d = c.def;
  let place: 'connector' | 'charger' | 'any';
  if (who.connectorId !== null && d.connectorIds.includes(`${who.chargerId}:${who.connectorId}`)) place = 'connector';
  else if (d.chargerIds.includes(who.chargerId)) place = 'charger';
  else if (d.chargerIds.length === 0 && d.connectorIds.length === 0) place = 'any';
  else return c.isDefault ? 'default' : null;

  let group: boolean;
  if (d.userIds.length === 0 && d.groupIdTags.length === 0) group = false;
  else if ((who.userId !== null && d.userIds.includes(who.userId)) || d.groupIdTags.some((g) => who.groupKeys.includes(g.toLowerCase()))) group = true;
  else return c.isDefault ? 'default' : null;

  if (place === 'any') return group ? 'group' : c.isDefault ? 'default' : null;
  return group ? `${place}+group` : place;
}

/**
 * The most specific tariff wins: connector > charger + group > charger >
 * group > site default (a connector tariff that is also limited to a group
 * beats one that is not). Equally specific tariffs: the lowest id wins.
 * A tariff with no charger, connector, user or group and not the default
 * applies nowhere.
 */
export function resolveTariff(candidates: Candidate[], who: Who): { tariff: Candidate; rule: Rule } | null {
  let best: { tariff: Candidate; rule: Rule } | null = null;
  for (const c of [...candidates].sort((a, b) => a.id - b.id)) {
    const rule = matchRule(c, who);
    if (rule && (!best || SCORE[rule] > SCORE[best.rule])) best = { tariff: c, rule };
  }
  return best;
}
