import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../core/plugin.js';

export default definePlugin({
  manifest: {
    name: 'alerts',
    version: '0.1.0',
    summary: 'Notifies the right people by e-mail, SMS, push and MQTT, with escalation',
    config: Type.Object({}, { additionalProperties: false }),
  },
  register() {},
});
