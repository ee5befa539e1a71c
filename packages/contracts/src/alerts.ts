import { z } from 'zod/mini';
import { APP_SERIES_MAX_LENGTH } from './app.js';
import { hostName, isoTimestamp, text } from './common.js';
import { isSeriesFamily, resolveCatalogueSeries } from './series.js';

// Every message below reads after its field's name: "threshold: must be a number".

/** How a rule compares a series' averaged value with its threshold. */
export const alertComparison = z.enum(['>', '>=', '<', '<='], {
  error: "must be one of '>', '>=', '<', '<='",
});
export type AlertComparison = z.infer<typeof alertComparison>;

export const alertSeverity = z.enum(['info', 'warning', 'critical'], {
  error: "must be one of 'info', 'warning', 'critical'",
});
export type AlertSeverity = z.infer<typeof alertSeverity>;

/** Where one (rule, host, series) stands; `resolved` is the moment it left `firing`. */
export const alertState = z.enum(['ok', 'pending', 'firing', 'resolved']);
export type AlertState = z.infer<typeof alertState>;

/** Rules the API ships and keeps; `host_down` has no series and cannot be deleted. */
export const alertBuiltin = z.enum(['host_down']);
export type AlertBuiltin = z.infer<typeof alertBuiltin>;

/** The longest a rule may be made to wait: one day. */
export const ALERT_MAX_FOR_SECONDS = 86_400;

/**
 * True for a series path of the history catalogue (`cpu.usagePercent`,
 * `disk.filesystems./.usedPercent`, `app.worker.queue.depth.value`) or for a whole family
 * written with `*` where the catalogue has its wildcard (`disk.filesystems.*.usedPercent`: one
 * state per filesystem) or in place of an application's service or metric
 * (`app.*.queue.depth.value`, `app.worker.*.p99`).
 */
export function isAlertSeries(path: string): boolean {
  return isSeriesFamily(path) || resolveCatalogueSeries(path) !== null;
}

const ALERT_SERIES_MESSAGE =
  'must be a series of the catalogue such as cpu.usagePercent or app.worker.queue.depth.value, or a family with * such as disk.filesystems.*.usedPercent or app.*.queue.depth.value';

/**
 * A rule's series: a catalogue path or family (see {@link isAlertSeries}), or '' for the
 * built-in host-down rule, which watches snapshots rather than a series.
 */
export const alertSeries = z.string({ error: 'must be a string' }).check(
  z.maxLength(APP_SERIES_MAX_LENGTH, `must be at most ${APP_SERIES_MAX_LENGTH} characters`),
  z.refine((value) => value === '' || isAlertSeries(value), ALERT_SERIES_MESSAGE),
);

/** A rule's or a channel's name. */
const editedName = text.check(
  z.trim(),
  z.minLength(1, 'must not be empty'),
  z.maxLength(100, 'must be at most 100 characters'),
);
const enabled = z._default(z.boolean({ error: 'must be true or false' }), true);

/** The part of a rule an admin edits: `POST /api/alerts/rules` and `PUT /api/alerts/rules/:id` body. */
export const alertRuleInput = z.object({
  name: editedName,
  description: z._default(text.check(z.maxLength(500, 'must be at most 500 characters')), ''),
  series: alertSeries,
  hosts: z._default(
    z.array(hostName, { error: 'must be a list of host names' }).check(z.maxLength(1000)),
    [],
  ),
  comparison: alertComparison,
  threshold: z.number({ error: 'must be a number' }),
  /** Where a firing alert resolves (hysteresis); null resolves where it fired. */
  recoveryThreshold: z._default(z.nullable(z.number({ error: 'must be a number or null' })), null),
  forSeconds: z
    .number({ error: 'must be a number' })
    .check(
      z.int('must be a whole number of seconds'),
      z.minimum(0, 'must be at least 0'),
      z.maximum(ALERT_MAX_FOR_SECONDS, `must be at most ${ALERT_MAX_FOR_SECONDS}`),
    ),
  severity: alertSeverity,
  enabled,
});
export type AlertRuleInput = z.infer<typeof alertRuleInput>;

/** A rule as the API answers it. */
export const alertRule = z.object({
  id: z.string().check(z.minLength(1)),
  name: z.string().check(z.minLength(1), z.maxLength(100)),
  /** One sentence, shown in the UI. */
  description: z.string(),
  series: z.string(),
  /** [] = every host. */
  hosts: z.array(hostName),
  comparison: alertComparison,
  threshold: z.number(),
  recoveryThreshold: z.nullable(z.number()),
  forSeconds: z.number().check(z.int(), z.minimum(0), z.maximum(ALERT_MAX_FOR_SECONDS)),
  severity: alertSeverity,
  enabled: z.boolean(),
  builtin: z.nullable(alertBuiltin),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type AlertRule = z.infer<typeof alertRule>;

/** A (rule, host, series) that is pending or firing now. */
export const activeAlert = z.object({
  ruleId: z.string().check(z.minLength(1)),
  ruleName: z.string(),
  host: hostName,
  /** The resolved series (`disk.filesystems./home.usedPercent`); '' for host down. */
  series: z.string(),
  state: z.enum(['pending', 'firing']),
  severity: alertSeverity,
  /** The averaged value last evaluated; null for host down. */
  value: z.nullable(z.number()),
  threshold: z.number(),
  /** When it entered this state. */
  since: isoTimestamp,
  firingSince: z.nullable(isoTimestamp),
  /** A silence covers it: shown, not notified. */
  silenced: z.boolean(),
});
export type ActiveAlert = z.infer<typeof activeAlert>;

/** One stored transition. */
export const alertEvent = z.object({
  id: z.number().check(z.int(), z.positive()),
  ruleId: z.string().check(z.minLength(1)),
  ruleName: z.string(),
  host: hostName,
  series: z.string(),
  from: alertState,
  to: alertState,
  value: z.nullable(z.number()),
  severity: alertSeverity,
  at: isoTimestamp,
});
export type AlertEvent = z.infer<typeof alertEvent>;

/** What every channel's redacted secret reads as in an answer. */
export const REDACTED = '•••';

const HTTP_URL = /^https?:\/\/[^\s/?#]+(?:[/?#]\S*)?$/;
const URL_MESSAGE = 'must be an http:// or https:// URL';
// A host part is required; contracts use no URL class (neither Node's nor the browser's).
const url = z
  .string({ error: 'must be a URL' })
  .check(z.maxLength(2048, 'must be at most 2048 characters'), z.regex(HTTP_URL, URL_MESSAGE));
/** A URL that is itself a credential (webhooks): {@link REDACTED} on PUT keeps the stored one. */
const secretUrl = z.string({ error: 'must be a URL' }).check(
  z.maxLength(2048, 'must be at most 2048 characters'),
  z.refine((value) => value === REDACTED || HTTP_URL.test(value), URL_MESSAGE),
);
const secret = z
  .string({ error: 'must be a string' })
  .check(z.minLength(1, 'must not be empty'), z.maxLength(1024));
const email = z
  .string({ error: 'must be an e-mail address' })
  .check(z.maxLength(320), z.email('must be an e-mail address'));

export const webhookConfig = z.object({
  url: secretUrl,
  /** HMAC-SHA256 key. */ secret: z.optional(secret),
});
export const ntfyConfig = z.object({
  /** Server and topic: `https://ntfy.sh/my-topic`. */
  url,
  token: z.optional(secret),
  priority: z.optional(
    z
      .number({ error: 'must be a number 1..5' })
      .check(
        z.int('must be a whole number 1..5'),
        z.minimum(1, 'must be 1..5'),
        z.maximum(5, 'must be 1..5'),
      ),
  ),
  tags: z.optional(
    z
      .array(z.string().check(z.minLength(1), z.maxLength(64)), {
        error: 'must be a list of tags',
      })
      .check(z.maxLength(20)),
  ),
});
export const slackConfig = z.object({ url: secretUrl });
export const telegramConfig = z.object({
  botToken: secret,
  chatId: z
    .string({ error: 'must be a string' })
    .check(z.minLength(1, 'must not be empty'), z.maxLength(64, 'must be at most 64 characters')),
});
export const emailConfig = z.object({
  host: z
    .string({ error: 'must be a host name' })
    .check(z.minLength(1, 'must not be empty'), z.maxLength(253)),
  port: z
    .number({ error: 'must be a port number' })
    .check(
      z.int('must be a port number'),
      z.minimum(1, 'must be 1..65535'),
      z.maximum(65535, 'must be 1..65535'),
    ),
  secure: z.enum(['starttls', 'tls', 'none'], {
    error: "must be one of 'starttls', 'tls', 'none'",
  }),
  username: z.optional(z.string().check(z.maxLength(320))),
  password: z.optional(secret),
  from: email,
  to: z
    .array(email, { error: 'must be a list of e-mail addresses' })
    .check(z.minLength(1, 'must name at least one address'), z.maxLength(50)),
});
export type WebhookConfig = z.infer<typeof webhookConfig>;
export type NtfyConfig = z.infer<typeof ntfyConfig>;
export type SlackConfig = z.infer<typeof slackConfig>;
export type TelegramConfig = z.infer<typeof telegramConfig>;
export type EmailConfig = z.infer<typeof emailConfig>;

export const alertChannelKind = z.enum(['webhook', 'ntfy', 'slack', 'telegram', 'email'], {
  error: "must be one of 'webhook', 'ntfy', 'slack', 'telegram', 'email'",
});
export type AlertChannelKind = z.infer<typeof alertChannelKind>;

/** Each kind's config schema. */
export const CHANNEL_CONFIGS = {
  webhook: webhookConfig,
  ntfy: ntfyConfig,
  slack: slackConfig,
  telegram: telegramConfig,
  email: emailConfig,
} as const;

/**
 * The config fields that are secrets, per kind: stored, never answered (they read
 * {@link REDACTED}). A webhook or Slack URL is itself a credential.
 */
export const CHANNEL_SECRETS: Readonly<Record<AlertChannelKind, readonly string[]>> = {
  webhook: ['url', 'secret'],
  ntfy: ['token'],
  slack: ['url'],
  telegram: ['botToken'],
  email: ['password'],
};

const channelFields = {
  name: editedName,
  enabled,
  /** Alerts below this severity are not sent to the channel. */
  minSeverity: z._default(alertSeverity, 'info'),
};

/**
 * `POST /api/alerts/channels` and `PUT /api/alerts/channels/:id` body. On PUT a secret sent back
 * as {@link REDACTED} keeps the stored one, so a form can round-trip what it was given.
 */
export const alertChannelInput = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('webhook'), config: webhookConfig, ...channelFields }),
    z.object({ kind: z.literal('ntfy'), config: ntfyConfig, ...channelFields }),
    z.object({ kind: z.literal('slack'), config: slackConfig, ...channelFields }),
    z.object({ kind: z.literal('telegram'), config: telegramConfig, ...channelFields }),
    z.object({ kind: z.literal('email'), config: emailConfig, ...channelFields }),
  ],
  { error: "must be one of 'webhook', 'ntfy', 'slack', 'telegram', 'email'" },
);
export type AlertChannelInput = z.infer<typeof alertChannelInput>;

/** A channel as the API answers it: secrets redacted for everyone; viewers get `config: null`. */
export const alertChannel = z.object({
  id: z.string().check(z.minLength(1)),
  name: z.string().check(z.minLength(1)),
  kind: alertChannelKind,
  enabled: z.boolean(),
  minSeverity: alertSeverity,
  config: z.nullable(z.record(z.string(), z.unknown())),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type AlertChannel = z.infer<typeof alertChannel>;

/** `POST /api/alerts/silences` body: mutes a rule, a host, or a rule on a host, until a time. */
export const silenceInput = z
  .object({
    ruleId: z._default(
      z.nullable(z.string({ error: 'must be a rule id or null' }).check(z.minLength(1))),
      null,
    ),
    host: z._default(z.nullable(hostName), null),
    until: isoTimestamp,
    reason: z._default(text.check(z.maxLength(500, 'must be at most 500 characters')), ''),
  })
  .check(
    z.refine((s) => s.ruleId !== null || s.host !== null, {
      path: ['ruleId'],
      message: 'a rule or a host (or both) must be set',
    }),
  );
export type SilenceInput = z.infer<typeof silenceInput>;

export const silence = z.object({
  id: z.string().check(z.minLength(1)),
  ruleId: z.nullable(z.string()),
  host: z.nullable(hostName),
  until: isoTimestamp,
  reason: z.string(),
  createdBy: z.string(),
  createdAt: isoTimestamp,
});
export type Silence = z.infer<typeof silence>;

/** `GET /api/alerts` answer: firing and pending. */
export const activeAlertsResponse = z.object({ active: z.array(activeAlert) });
export type ActiveAlertsResponse = z.infer<typeof activeAlertsResponse>;

export const ALERT_HISTORY_DEFAULT_LIMIT = 500;
export const ALERT_HISTORY_MAX_LIMIT = 10_000;

const historyTime = z.optional(
  z.union([
    isoTimestamp,
    z.string().check(z.regex(/^\d+$/, 'must be ISO 8601 or epoch milliseconds')),
  ]),
);

/** `GET /api/alerts/history` query string (times as ISO 8601 or epoch ms). */
export const alertHistoryQuery = z.object({
  from: historyTime,
  to: historyTime,
  host: z.optional(hostName),
  ruleId: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  limit: z._default(
    z.coerce
      .number({ error: 'must be a number' })
      .check(
        z.int('must be a whole number'),
        z.minimum(1, 'must be at least 1'),
        z.maximum(ALERT_HISTORY_MAX_LIMIT, `must be at most ${ALERT_HISTORY_MAX_LIMIT}`),
      ),
    ALERT_HISTORY_DEFAULT_LIMIT,
  ),
  format: z._default(z.enum(['json', 'csv'], { error: "must be 'json' or 'csv'" }), 'json'),
});
export type AlertHistoryQuery = z.infer<typeof alertHistoryQuery>;

export const alertHistoryResponse = z.object({ events: z.array(alertEvent) });
export type AlertHistoryResponse = z.infer<typeof alertHistoryResponse>;
export const alertRulesResponse = z.object({ rules: z.array(alertRule) });
export type AlertRulesResponse = z.infer<typeof alertRulesResponse>;
export const alertRuleResponse = z.object({ rule: alertRule });
export type AlertRuleResponse = z.infer<typeof alertRuleResponse>;
export const alertChannelsResponse = z.object({ channels: z.array(alertChannel) });
export type AlertChannelsResponse = z.infer<typeof alertChannelsResponse>;
export const alertChannelResponse = z.object({ channel: alertChannel });
export type AlertChannelResponse = z.infer<typeof alertChannelResponse>;
export const silencesResponse = z.object({ silences: z.array(silence) });
export type SilencesResponse = z.infer<typeof silencesResponse>;
export const silenceResponse = z.object({ silence });
export type SilenceResponse = z.infer<typeof silenceResponse>;
/** `POST /api/alerts/channels/:id/test` answer. */
export const channelTestResponse = z.object({
  delivered: z.boolean(),
  error: z.optional(z.string()),
});
export type ChannelTestResponse = z.infer<typeof channelTestResponse>;

/**
 * One line per issue of a failed parse, each naming its field: `threshold: must be a number`,
 * `config.url: must be an http:// or https:// URL`. The API answers these joined by '; '.
 */
export function describeAlertIssues(error: z.core.$ZodError): string[] {
  const lines = error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return `${path || 'body'}: ${issue.message}`;
  });
  return [...new Set(lines)];
}
