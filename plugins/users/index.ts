import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../core/plugin.js';

export default definePlugin({
  manifest: {
    name: 'users',
    version: '0.1.0',
    summary: 'Operators, drivers, RFID tags, access control, local auth lists',
    config: Type.Object({}, { additionalProperties: false }),
  },
  register() {},
});
