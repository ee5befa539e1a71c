import {
  activeAlertsResponse,
  alertChannelResponse,
  alertChannelsResponse,
  alertHistoryResponse,
  alertRuleResponse,
  alertRulesResponse,
  channelTestResponse,
  silenceResponse,
  silencesResponse,
} from '@livestat/contracts';
import type {
  ActiveAlert,
  AlertChannel,
  AlertChannelInput,
  AlertEvent,
  AlertRule,
  AlertRuleInput,
  ChannelTestResponse,
  Silence,
  SilenceInput,
} from '@livestat/contracts';
import { createRequest } from '../../lib/api';
import type { ApiClientOptions, RequestOptions, ResponseSchema } from '../../lib/api';

/** `GET /api/alerts/history` parameters; times in epoch ms. */
export interface AlertHistoryParams {
  from?: number;
  to?: number;
  host?: string;
  ruleId?: string;
  limit?: number;
}

/** The alerts REST API (`/api/alerts`), each answer checked with the contract's schema. */
export interface AlertsClient {
  active(options?: RequestOptions): Promise<ActiveAlert[]>;
  history(params: AlertHistoryParams, options?: RequestOptions): Promise<AlertEvent[]>;
  rules(options?: RequestOptions): Promise<AlertRule[]>;
  createRule(input: AlertRuleInput): Promise<AlertRule>;
  updateRule(id: string, input: AlertRuleInput): Promise<AlertRule>;
  deleteRule(id: string): Promise<void>;
  channels(options?: RequestOptions): Promise<AlertChannel[]>;
  createChannel(input: AlertChannelInput): Promise<AlertChannel>;
  updateChannel(id: string, input: AlertChannelInput): Promise<AlertChannel>;
  deleteChannel(id: string): Promise<void>;
  testChannel(id: string): Promise<ChannelTestResponse>;
  silences(options?: RequestOptions): Promise<Silence[]>;
  createSilence(input: SilenceInput): Promise<Silence>;
  deleteSilence(id: string): Promise<void>;
}

// A DELETE answers 204 with no body: nothing to check.
const NO_BODY: ResponseSchema<void> = { safeParse: () => ({ success: true, data: undefined }) };

/** The query string of a history request: times as epoch ms, absent ones left out. */
export function alertHistorySearch(params: AlertHistoryParams): string {
  const search = new URLSearchParams();
  if (params.from !== undefined) search.set('from', String(Math.floor(params.from)));
  if (params.to !== undefined) search.set('to', String(Math.ceil(params.to)));
  if (params.host !== undefined) search.set('host', params.host);
  if (params.ruleId !== undefined) search.set('ruleId', params.ruleId);
  if (params.limit !== undefined) search.set('limit', String(params.limit));
  return search.toString();
}

/** Creates an {@link AlertsClient} on the same options as the app's `ApiClient`. */
export function createAlertsClient(options: ApiClientOptions = {}): AlertsClient {
  const request = createRequest(options);
  const get = <T>(path: string, schema: ResponseSchema<T>, opts: RequestOptions = {}) =>
    request(path, schema, { auth: true, signal: opts.signal });
  const send = <T>(method: string, path: string, schema: ResponseSchema<T>, body?: unknown) =>
    request(path, schema, { method, body, auth: true });
  const id = (value: string) => encodeURIComponent(value);
  return {
    active: async (opts) => (await get('/api/alerts', activeAlertsResponse, opts)).active,
    history: async (params, opts) =>
      (await get(`/api/alerts/history?${alertHistorySearch(params)}`, alertHistoryResponse, opts))
        .events,
    rules: async (opts) => (await get('/api/alerts/rules', alertRulesResponse, opts)).rules,
    createRule: async (input) =>
      (await send('POST', '/api/alerts/rules', alertRuleResponse, input)).rule,
    updateRule: async (ruleId, input) =>
      (await send('PUT', `/api/alerts/rules/${id(ruleId)}`, alertRuleResponse, input)).rule,
    deleteRule: (ruleId) => send('DELETE', `/api/alerts/rules/${id(ruleId)}`, NO_BODY),
    channels: async (opts) =>
      (await get('/api/alerts/channels', alertChannelsResponse, opts)).channels,
    createChannel: async (input) =>
      (await send('POST', '/api/alerts/channels', alertChannelResponse, input)).channel,
    updateChannel: async (channelId, input) =>
      (await send('PUT', `/api/alerts/channels/${id(channelId)}`, alertChannelResponse, input))
        .channel,
    deleteChannel: (channelId) => send('DELETE', `/api/alerts/channels/${id(channelId)}`, NO_BODY),
    testChannel: (channelId) =>
      send('POST', `/api/alerts/channels/${id(channelId)}/test`, channelTestResponse),
    silences: async (opts) => (await get('/api/alerts/silences', silencesResponse, opts)).silences,
    createSilence: async (input) =>
      (await send('POST', '/api/alerts/silences', silenceResponse, input)).silence,
    deleteSilence: (silenceId) => send('DELETE', `/api/alerts/silences/${id(silenceId)}`, NO_BODY),
  };
}
