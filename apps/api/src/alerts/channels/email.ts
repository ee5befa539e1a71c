import type { EmailConfig } from '@livestat/contracts';
import { chartLink, notificationText, notificationTitle } from './format.js';
import { DELIVERY_ID_HEADER, type ChannelSender } from './types.js';

/**
 * E-mail over SMTP with nodemailer: `starttls` requires the upgrade (a server that does not
 * offer it fails rather than carrying the password in clear), `tls` is implicit TLS (465),
 * `none` plain. The dedupe id is the Message-ID and the `X-Livestat-Delivery` header.
 * nodemailer (≈ 2.6 MB of V8 heap once loaded) is imported on the first e-mail sent, not at
 * start-up: most deployments never configure an e-mail channel.
 */
export const sendEmail: ChannelSender = async (channel, { id, payload }, context) => {
  const config = channel.config as EmailConfig;
  const { default: nodemailer } = await import('nodemailer');
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
