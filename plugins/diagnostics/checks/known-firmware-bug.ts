import { createHash } from 'node:crypto';
import { defineCheck } from '../check.js';

/** One finding per bug: its summary, hashed short, tells the bugs of one charger apart. */
const subKeyOf = (summary: string) => createHash('sha256').update(summary).digest('hex').slice(0, 12);

export default defineCheck({
  id: 'known-firmware-bug',
  summary: 'The charger runs a firmware the charger model catalogue (chargermodels plugin) knows a bug of; clears when it boots with a firmware without one',
  config: {},
  state: () => null,
  on: {
    'chargermodels.bugs': async (e, cx) => {
      const keep = new Set<string>();
      for (const bug of e.bugs) {
        const subKey = subKeyOf(bug.summary);
        keep.add(subKey);
        await cx.raise({
          chargerId: e.chargerId, subKey, severity: 'info', since: e.at,
          problem: `Charger ${e.chargerId} runs firmware ${e.firmwareVersion ?? '(unknown)'}, which is known to have this bug: ${bug.summary}`,
          cause: `a known bug of this firmware (catalogue entry ${e.entry}${bug.link ? `, reported at ${bug.link}` : ''})`,
          action: bug.advice,
          detail: { entry: e.entry, firmwareVersion: e.firmwareVersion, ...(bug.link ? { link: bug.link } : {}) },
        });
      }
      await cx.clearWhere((f) => f.chargerId === e.chargerId && !keep.has(f.subKey));
    },
    'charger.deleted': async (e, cx) => {
      await cx.clearWhere((f) => f.chargerId === e.chargerId);
    },
  },
});
