import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../core/plugin.js';

export default definePlugin({
  manifest: {
    name: 'diagnostics',
    version: '0.1.0',
    summary: 'Finds broken chargers: faults, offline, stuck sessions, meter problems',
    config: Type.Object({}, { additionalProperties: false }),
  },
  register() {},
});
