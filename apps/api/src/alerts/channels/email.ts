import type { EmailConfig } from '@livestat/contracts';
import nodemailer from 'nodemailer';
import { chartLink, notificationText, notificationTitle } from './format.js';
import { DELIVERY_ID_HEADER, type ChannelSender } from './types.js';

/**
 * E-mail over SMTP with nodemailer: `starttls` requires the upgrade (a server that does not
 * offer it fails rather than carrying the password in clear), `tls` is implicit TLS (465),
 * `none` plain. The dedupe id is the Message-ID and the `X-Livestat-Delivery` header.
 */
export const sendEmail: ChannelSender = async (channel, { id, payload }, context) => {
  const config = channel.config as EmailConfig;
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure === 'tls',
    requireTLS: config.secure === 'starttls',
    ignoreTLS: config.secure === 'none',
    auth: config.username ? { user: config.username, pass: config.password ?? '' } : undefined,
    connectionTimeout: context.timeoutMs,
    greetingTimeout: context.timeoutMs,
    socketTimeout: context.timeoutMs,
    tls: context.smtpTls,
  });
  const link = chartLink(payload, context.publicUrl);
  try {
    await transport.sendMail({
      from: config.from,
      to: config.to,
      subject: notificationTitle(payload),
      text: `${notificationText(payload)}${link ? `\n\n${link}` : ''}\n`,
      messageId: `<${id}@livestat>`,
      headers: { [DELIVERY_ID_HEADER]: id },
    });
  } finally {
    transport.close();
  }
};
