import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../core/plugin.js';

export default definePlugin({
  manifest: {
    name: 'billing',
    version: '0.1.0',
    summary: 'Tariffs, session costs and monthly statements',
    config: Type.Object({}, { additionalProperties: false }),
  },
  register() {},
});
