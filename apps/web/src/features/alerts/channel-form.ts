import { alertChannelInput, CHANNEL_SECRETS, REDACTED } from '@livestat/contracts';
import type {
  AlertChannel,
  AlertChannelInput,
  AlertChannelKind,
  AlertSeverity,
} from '@livestat/contracts';
import { check } from './form-errors';
import type { Checked } from './form-errors';

/** How a config field is typed in: text, a number, a comma-separated list, or a choice. */
export type ConfigFieldType = 'text' | 'number' | 'list' | 'select';

/** One field of a channel kind's config form. */
export interface ConfigField {
  key: string;
  label: string;
  type: ConfigFieldType;
  optional?: boolean;
  options?: readonly string[];
  placeholder?: string;
}

/** Each kind's config fields, in the order the form shows them (the contract's configs). */
export const CHANNEL_FIELDS: Readonly<Record<AlertChannelKind, readonly ConfigField[]>> = {
  webhook: [
    { key: 'url', label: 'URL', type: 'text', placeholder: 'https://example.com/hook' },
    { key: 'secret', label: 'HMAC secret', type: 'text', optional: true },
  ],
  ntfy: [
    { key: 'url', label: 'Server and topic', type: 'text', placeholder: 'https://ntfy.sh/topic' },
    { key: 'token', label: 'Access token', type: 'text', optional: true },
    { key: 'priority', label: 'Priority (1–5)', type: 'number', optional: true },
    { key: 'tags', label: 'Tags', type: 'list', optional: true, placeholder: 'warning, server' },
  ],
  slack: [
    {
      key: 'url',
      label: 'Incoming webhook URL',
      type: 'text',
      placeholder: 'https://hooks.slack.com/…',
    },
  ],
  telegram: [
    { key: 'botToken', label: 'Bot token', type: 'text' },
    { key: 'chatId', label: 'Chat id', type: 'text' },
  ],
  email: [
    { key: 'host', label: 'SMTP host', type: 'text' },
    { key: 'port', label: 'Port', type: 'number', placeholder: '587' },
    { key: 'secure', label: 'Security', type: 'select', options: ['starttls', 'tls', 'none'] },
    { key: 'username', label: 'Username', type: 'text', optional: true },
    { key: 'password', label: 'Password', type: 'text', optional: true },
    { key: 'from', label: 'From', type: 'text', placeholder: 'livestat@example.com' },
    { key: 'to', label: 'To', type: 'list', placeholder: 'ops@example.com, me@example.com' },
  ],
};

/** A channel form: config fields as typed; a stored secret left blank keeps its value. */
export interface ChannelDraft {
  name: string;
  kind: AlertChannelKind;
  enabled: boolean;
  minSeverity: AlertSeverity;
  config: Record<string, string>;
  /** The secret fields the channel already has (shown as "•••", kept unless typed over). */
  storedSecrets: readonly string[];
}

/** Whether `key` of `kind` is a secret: never shown, only replaced. */
export const isSecret = (kind: AlertChannelKind, key: string): boolean =>
  CHANNEL_SECRETS[kind].includes(key);

/** The form of `channel`, or of a new webhook. Secrets start blank; the stored ones are listed. */
export function channelDraft(channel?: AlertChannel): ChannelDraft {
  if (channel === undefined) {
    return {
      name: '',
      kind: 'webhook',
      enabled: true,
      minSeverity: 'warning',
      config: {},
      storedSecrets: [],
    };
  }
  const config: Record<string, string> = {};
  const storedSecrets: string[] = [];
  for (const field of CHANNEL_FIELDS[channel.kind]) {
    const value = channel.config?.[field.key];
    if (value === undefined || value === null) continue;
    if (isSecret(channel.kind, field.key)) {
      storedSecrets.push(field.key);
      continue;
    }
    config[field.key] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return {
    name: channel.name,
    kind: channel.kind,
    enabled: channel.enabled,
    minSeverity: channel.minSeverity,
    config,
    storedSecrets,
  };
}

// What a kept secret is checked as: a value its field accepts, since the API keeps the stored one.
const STAND_IN: Readonly<Record<string, string>> = { url: 'https://stored.invalid/' };

function fieldValue(field: ConfigField, text: string): unknown {
  const trimmed = text.trim();
  if (field.type === 'number') {
    const value = Number(trimmed);
    return trimmed !== '' && Number.isFinite(value) ? value : trimmed;
  }
  if (field.type === 'list') {
    return trimmed
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
  return trimmed;
}

/**
 * The request body of the form (`send`) and what is checked (`probe`): a stored secret left
 * blank is sent as "•••", which the API reads as "keep it", and checked as a valid stand-in; a
 * blank optional field is left out.
 */
export function channelBody(draft: ChannelDraft): {
  send: Record<string, unknown>;
  probe: Record<string, unknown>;
} {
  const send: Record<string, unknown> = {};
  const probe: Record<string, unknown> = {};
  for (const field of CHANNEL_FIELDS[draft.kind]) {
    const text = draft.config[field.key] ?? '';
    if (text.trim() === '') {
      if (draft.storedSecrets.includes(field.key)) {
        send[field.key] = REDACTED;
        probe[field.key] = STAND_IN[field.key] ?? 'stored';
      } else if (!field.optional) {
        send[field.key] = probe[field.key] = fieldValue(field, text);
      }
      continue;
    }
    send[field.key] = probe[field.key] = fieldValue(field, text);
  }
  const head = {
    name: draft.name,
    kind: draft.kind,
    enabled: draft.enabled,
    minSeverity: draft.minSeverity,
  };
  return { send: { ...head, config: send }, probe: { ...head, config: probe } };
}

/** The fields a channel's 400 can name, as the form shows them. */
export function channelFieldNames(kind: AlertChannelKind): string[] {
  return [
    'name',
    'kind',
    'enabled',
    'minSeverity',
    ...CHANNEL_FIELDS[kind].map((f) => `config.${f.key}`),
  ];
}

/** Checks the form with the contract's schema; the body sent keeps stored secrets as "•••". */
export function checkChannel(draft: ChannelDraft): Checked<AlertChannelInput> {
  const { send, probe } = channelBody(draft);
  const checked = check(alertChannelInput, probe);
  return checked.ok ? { ok: true, data: send as AlertChannelInput } : checked;
}
