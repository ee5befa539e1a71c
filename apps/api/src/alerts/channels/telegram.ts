import type { TelegramConfig } from '@livestat/contracts';
import { chartLink, notificationText, notificationTitle, postJson } from './format.js';
import { DELIVERY_ID_HEADER, type ChannelSender } from './types.js';

/**
 * Telegram Bot API `sendMessage` to one chat. The token sits in the URL's path, so no error
 * here ever carries the URL.
 */
export const sendTelegram: ChannelSender = async (channel, { id, payload }, context) => {
  const config = channel.config as TelegramConfig;
  const link = chartLink(payload, context.publicUrl);
  const text = `${notificationTitle(payload)}\n${notificationText(payload)}${link ? `\n${link}` : ''}`;
  const body = JSON.stringify({ chat_id: config.chatId, text, disable_web_page_preview: true });
  let response: Response;
  try {
    response = await postJson(
      `${context.telegramApiUrl}/bot${config.botToken}/sendMessage`,
      body,
      { [DELIVERY_ID_HEADER]: id },
      context.timeoutMs,
    );
  } catch (err) {
    // Only the name in the message: the cause's text may hold the URL, and with it the token.
    throw new Error(`Telegram unreachable: ${(err as Error).name}`, { cause: err });
  }
  const answer = (await response.json().catch(() => null)) as {
    ok?: boolean;
    description?: string;
  } | null;
  if (!response.ok || answer?.ok !== true) {
    throw new Error(
      `Telegram answered HTTP ${response.status}${answer?.description ? `: ${answer.description}` : ''}`,
    );
  }
};
