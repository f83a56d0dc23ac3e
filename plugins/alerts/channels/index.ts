import type { ChannelType } from './channel.js';
import email from './email.js';
import mqtt from './mqtt.js';
import sms from './sms.js';
import webhook from './webhook.js';
import webpush from './webpush.js';

/** Every channel type a site can configure under plugins.alerts.channels, by `type`. Add one file and one line. */
export const channelTypes: Record<string, ChannelType> = {
  email,
  mqtt,
  webhook,
  sms,
  webpush,
};
