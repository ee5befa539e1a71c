import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredChannel } from '../channel-store.js';
import type { NotificationPayload } from '../state-store.js';
import { startReceiver } from '../test-receiver.js';
import { CHANNEL_SENDERS } from './index.js';
import type { DeliveryContext } from './types.js';

const payload: NotificationPayload = {
  event: {
    id: 7,
    ruleId: '0b7c2c1e-4a63-4c55-9f0e-1f3c1a3d2b10',
    ruleName: 'Filesystem almost full',
    host: 'db-1',
    series: 'disk.filesystems./var/lib.usedPercent',
    from: 'pending',
    to: 'firing',
    value: 93.456,
    severity: 'critical',
    at: '2026-12-04T21:00:00.000Z',
  },
  threshold: 90,
  comparison: '>=',
  description: 'Fires when any filesystem has been at least 90 % full on average for 5 minutes.',
};

function channel(kind: StoredChannel['kind'], config: Record<string, unknown>): StoredChannel {
  return {
    id: '5d7e4a0c-0c55-4a53-8a51-111111111111',
    name: kind,
    kind,
    enabled: true,
    minSeverity: 'info',
    config,
    createdAt: payload.event.at,
    updatedAt: payload.event.at,
  };
}

describe('HTTP channels against a real receiver', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let context: DeliveryContext;

  beforeAll(async () => {
    receiver = await startReceiver((req) =>
      req.path.includes('/sendMessage') ? '{"ok":true,"result":{"message_id":1}}' : '{"ok":true}',
    );
    context = {
      publicUrl: 'https://livestat.example.com',
      telegramApiUrl: receiver.url,
      timeoutMs: 2000,
    };
  });
  afterAll(() => receiver.close());

  it('ntfy: the text as body; title, priority, tags and a click link to the chart as headers', async () => {
    receiver.received.length = 0;
    const config = { url: `${receiver.url}/alerts-topic`, token: 'tk_secret', tags: ['db'] };
    await CHANNEL_SENDERS.ntfy(channel('ntfy', config), { id: 'n-1', payload }, context);
    const [request] = receiver.received;
    expect(request!.path).toBe('/alerts-topic');
    expect(request!.headers.title).toBe('[FIRING] Filesystem almost full on db-1');
    expect(request!.headers.priority).toBe('5');
    expect(request!.headers.tags).toBe('rotating_light,db');
    expect(request!.headers.authorization).toBe('Bearer tk_secret');
    expect(request!.headers['x-livestat-delivery']).toBe('n-1');
    const click = new URL(String(request!.headers.click));
    expect(click.origin + click.pathname).toBe('https://livestat.example.com/history');
    expect(Object.fromEntries(click.searchParams)).toEqual({
      host: 'db-1',
      series: 'disk.filesystems./var/lib.usedPercent',
      from: '2026-12-04T20:00:00.000Z',
      to: '2026-12-04T21:15:00.000Z',
    });
    expect(request!.body).toContain(
      'disk.filesystems./var/lib.usedPercent = 93.46 (threshold >= 90).',
    );
  });

  it('Slack-compatible: one mrkdwn text with the link, and the dedupe id header', async () => {
    receiver.received.length = 0;
    await CHANNEL_SENDERS.slack(
      channel('slack', { url: `${receiver.url}/services/T/B/X` }),
      { id: 's-1', payload },
      context,
    );
    const [request] = receiver.received;
    const body = JSON.parse(request!.body) as { text: string };
    expect(body.text.split('\n')[0]).toBe('*[FIRING] Filesystem almost full on db-1*');
    expect(body.text).toMatch(
      /<https:\/\/livestat\.example\.com\/history\?host=db-1&[^|]+\|Open the chart>$/,
    );
    expect(request!.headers['x-livestat-delivery']).toBe('s-1');
  });

  it('Telegram: sendMessage under the bot token to the chat', async () => {
    receiver.received.length = 0;
    const config = { botToken: '123456:ABC-secret', chatId: '-100200300' };
    await CHANNEL_SENDERS.telegram(channel('telegram', config), { id: 't-1', payload }, context);
    const [request] = receiver.received;
    expect(request!.path).toBe('/bot123456:ABC-secret/sendMessage');
    const body = JSON.parse(request!.body) as { chat_id: string; text: string };
    expect(body.chat_id).toBe('-100200300');
    expect(body.text.split('\n')[0]).toBe('[FIRING] Filesystem almost full on db-1');
  });

  it('reports a refusing receiver by status only, never by URL', async () => {
    receiver.setDown(true);
    const failure = CHANNEL_SENDERS.webhook(
      channel('webhook', { url: `${receiver.url}/hook/secret-path-token` }),
      { id: 'w-1', payload },
      context,
    );
    await expect(failure).rejects.toThrow(/^HTTP 503: down for maintenance$/);
    receiver.setDown(false);
  });
});

describe('e-mail over SMTP with STARTTLS, to a real SMTP server', () => {
  let server: SMTPServer;
  let port = 0;
  let dir = '';
  let cert = '';
  const mails: {
    from: string;
    to: string[];
    data: string;
    secure: boolean;
    user: string | undefined;
  }[] = [];

  beforeAll(async () => {
    // A self-signed certificate for 127.0.0.1, made for this test only.
    dir = mkdtempSync(join(tmpdir(), 'livestat-smtp-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    server = new SMTPServer({
      key: readFileSync(join(dir, 'key.pem')),
      cert,
      authOptional: false,
      onAuth(auth, _session, callback) {
        if (auth.username === 'alerts' && auth.password === 'smtp-pass')
          callback(null, { user: auth.username });
        else callback(new Error('bad credentials'));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks).toString(),
            secure: session.secure,
            user: session.user as string | undefined,
          });
          callback();
        });
      },
      logger: false,
    });
    server.listen(0, '127.0.0.1');
    await once(server.server, 'listening');
    port = (server.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('upgrades with STARTTLS, logs in, and sends the alert with the dedupe id as Message-ID', async () => {
    const config = {
      host: '127.0.0.1',
      port,
      secure: 'starttls',
      username: 'alerts',
      password: 'smtp-pass',
      from: 'livestat@example.com',
      to: ['oncall@example.com', 'ops@example.com'],
    };
    const context: DeliveryContext = {
      publicUrl: 'https://livestat.example.com',
      telegramApiUrl: 'http://127.0.0.1:1',
      timeoutMs: 5000,
      smtpTls: { ca: cert },
    };
    await CHANNEL_SENDERS.email(channel('email', config), { id: 'mail-1', payload }, context);
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail!.secure).toBe(true);
    expect(mail!.user).toBe('alerts');
    expect(mail!.from).toBe('livestat@example.com');
    expect(mail!.to).toEqual(['oncall@example.com', 'ops@example.com']);
    expect(mail!.data).toMatch(/^Subject: \[FIRING\] Filesystem almost full on db-1\r?$/m);
    expect(mail!.data).toMatch(/^Message-ID: <mail-1@livestat>\r?$/im);
    expect(mail!.data).toMatch(/^X-Livestat-Delivery: mail-1\r?$/m);
    // The body is quoted-printable: long lines are wrapped with a soft break, '=' is '=3D'.
    const body = mail!.data.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    expect(body).toContain('https://livestat.example.com/history?host=db-1&series=');
  });

  it('refuses to send when the server certificate is not trusted', async () => {
    const config = {
      host: '127.0.0.1',
      port,
      secure: 'starttls',
      username: 'alerts',
      password: 'smtp-pass',
      from: 'a@example.com',
      to: ['b@example.com'],
    };
    const context: DeliveryContext = {
      publicUrl: undefined,
      telegramApiUrl: 'http://127.0.0.1:1',
      timeoutMs: 5000,
    };
    const before = mails.length;
    await expect(
      CHANNEL_SENDERS.email(channel('email', config), { id: 'mail-2', payload }, context),
    ).rejects.toThrow(/certificate/i);
    expect(mails.length).toBe(before);
  });
});
