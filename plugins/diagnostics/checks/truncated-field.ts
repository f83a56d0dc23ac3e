import { defineCheck } from '../check.js';

export default defineCheck({
  id: 'truncated-field',
  summary: 'Lenient mode cut a field a charger sent longer than OCPP allows (ocpp.lenient); clears on a boot within the limits',
  config: {},
  state: () => null,
  on: {
    'field.truncated': async (e, cx) => {
      await cx.raise({
        chargerId: e.chargerId, subKey: `${e.action}.${e.field}`, severity: 'info', since: e.at,
        problem: `Charger ${e.chargerId} sent ${e.field} in ${e.action} with ${e.length} characters, more than the ${e.maxLength} OCPP allows; it was stored cut to ${e.maxLength}.`,
        cause: 'the charger\'s firmware does not keep to the OCPP field lengths (seen with long serial numbers and firmware versions)',
        action: 'Nothing is lost for charging; the stored value is the first characters only. Ask the manufacturer for a firmware that keeps to the OCPP field lengths, or leave lenient mode on for this model.',
        detail: { action: e.action, field: e.field, maxLength: e.maxLength, length: e.length },
      });
    },
    'charger.booted': async (e, cx) => {
      if (e.truncatedFields && e.truncatedFields.length) return;
      await cx.clearWhere((f) => f.chargerId === e.chargerId && f.subKey.startsWith('BootNotification.'));
    },
  },
});
