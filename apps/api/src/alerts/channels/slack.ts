import type { SlackConfig } from '@livestat/contracts';
import { chartLink, expectOk, notificationText, notificationTitle, postJson } from './format.js';
import { DELIVERY_ID_HEADER, type ChannelSender } from './types.js';

/**
 * Slack-compatible incoming webhook (Slack, Mattermost, Discord's `/slack` endpoint): one
 * `text` in mrkdwn, the link in Slack's `<url|label>` form.
 */
export const sendSlack: ChannelSender = async (channel, { id, payload }, context) => {
  const config = channel.config as SlackConfig;
  const link = chartLink(payload, context.publicUrl);
  const text = `*${notificationTitle(payload)}*\n${notificationText(payload)}${link ? `\n<${link}|Open the chart>` : ''}`;
  const body = JSON.stringify({ text });
  await expectOk(await postJson(config.url, body, { [DELIVERY_ID_HEADER]: id }, context.timeoutMs));
};
