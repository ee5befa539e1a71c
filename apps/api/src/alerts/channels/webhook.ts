import { createHmac } from 'node:crypto';
import type { WebhookConfig } from '@livestat/contracts';
import { chartLink, expectOk, notificationText, notificationTitle, postJson } from './format.js';
import { DELIVERY_ID_HEADER, type ChannelSender } from './types.js';

/** The header the HMAC-SHA256 of the body travels in: `sha256=<hex>`. */
export const SIGNATURE_HEADER = 'X-Livestat-Signature';

/** `sha256=<hex HMAC-SHA256 of body under secret>`, as receivers recompute it. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Generic webhook: a JSON body `{id, title, text, link, event, threshold, ...}`, the dedupe id
 * in `X-Livestat-Delivery`, and `X-Livestat-Signature` when the channel has a secret.
 */
export const sendWebhook: ChannelSender = async (channel, { id, payload }, context) => {
  const config = channel.config as WebhookConfig;
  const body = JSON.stringify({
    id,
    title: notificationTitle(payload),
    text: notificationText(payload),
    link: chartLink(payload, context.publicUrl),
    ...payload,
  });
  const headers: Record<string, string> = { [DELIVERY_ID_HEADER]: id };
  if (config.secret) headers[SIGNATURE_HEADER] = signBody(config.secret, body);
  await expectOk(await postJson(config.url, body, headers, context.timeoutMs));
};
