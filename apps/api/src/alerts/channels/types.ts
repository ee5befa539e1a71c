import type { ConnectionOptions } from 'node:tls';
import type { StoredChannel } from '../channel-store.js';
import type { NotificationPayload } from '../state-store.js';

/** One notification to deliver: `id` is the dedupe id every channel sends along. */
export interface Notification {
  id: string;
  payload: NotificationPayload;
}

/** What every channel needs besides the channel and the notification. */
export interface DeliveryContext {
  /** `PUBLIC_URL`: where links back to the chart point; none when unset. */
  publicUrl: string | undefined;
  /** The Telegram Bot API base URL. */
  telegramApiUrl: string;
  /** Bounds one delivery. */
  timeoutMs: number;
  /** TLS options for SMTP (a private CA in tests). */
  smtpTls?: ConnectionOptions;
}

/** Delivers one notification or throws an error whose message holds no secret. */
export type ChannelSender = (
  channel: StoredChannel,
  notification: Notification,
  context: DeliveryContext,
) => Promise<void>;

/** The header every HTTP channel carries the dedupe id in. */
export const DELIVERY_ID_HEADER = 'X-Livestat-Delivery';
