import type { AlertChannelKind } from '@livestat/contracts';
import { sendEmail } from './email.js';
import { sendNtfy } from './ntfy.js';
import { sendSlack } from './slack.js';
import { sendTelegram } from './telegram.js';
import type { ChannelSender } from './types.js';
import { sendWebhook } from './webhook.js';

/** The sender of each channel kind. */
export const CHANNEL_SENDERS: Readonly<Record<AlertChannelKind, ChannelSender>> = {
  webhook: sendWebhook,
  ntfy: sendNtfy,
  slack: sendSlack,
  telegram: sendTelegram,
  email: sendEmail,
};
