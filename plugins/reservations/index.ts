import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../core/plugin.js';

export default definePlugin({
  manifest: {
    name: 'reservations',
    version: '0.1.0',
    summary: 'Reservations, waitlist and the mobile page for drivers',
    config: Type.Object({}, { additionalProperties: false }),
  },
  register() {},
});
