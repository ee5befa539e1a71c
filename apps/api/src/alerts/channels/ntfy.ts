import type { NtfyConfig } from '@livestat/contracts';
import { chartLink, expectOk, notificationText, notificationTitle } from './format.js';
import { DELIVERY_ID_HEADER, type ChannelSender } from './types.js';

// ntfy's priorities: 5 urgent … 1 min; resolved ones are never louder than default.
const PRIORITY = { critical: 5, warning: 4, info: 3 } as const;

/**
 * ntfy (https://docs.ntfy.sh/publish/): the text as the body, Title, Priority, Tags and a Click
 * link back to the chart as headers; a token as `Authorization: Bearer`.
 */
export const sendNtfy: ChannelSender = async (channel, { id, payload }, context) => {
  const config = channel.config as NtfyConfig;
  const firing = payload.event.to === 'firing';
  const headers: Record<string, string> = {
    Title: notificationTitle(payload),
    Priority: String(config.priority ?? (firing ? PRIORITY[payload.event.severity] : 3)),
    Tags: [firing ? 'rotating_light' : 'white_check_mark', ...(config.tags ?? [])].join(','),
    [DELIVERY_ID_HEADER]: id,
  };
  const link = chartLink(payload, context.publicUrl);
  if (link !== null) headers.Click = link;
  if (config.token) headers.Authorization = `Bearer ${config.token}`;
  const response = await fetch(config.url, {
    method: 'POST',
    headers,
    body: notificationText(payload),
    signal: AbortSignal.timeout(context.timeoutMs),
  });
  await expectOk(response);
};
