import {
  alertChannelInput,
  alertHistoryQuery,
  alertRuleInput,
  describeAlertIssues,
  silenceInput,
  type AlertEvent,
} from '@livestat/contracts';
import { Router, type RequestHandler } from 'express';
import type { z } from 'zod/mini';
import { requireRole } from '../auth/require-auth.js';
import { HttpError } from '../http/errors.js';
import { redactChannel } from './channel-store.js';
import { CHANNEL_SENDERS } from './channels/index.js';
import type { DeliveryContext } from './channels/types.js';
import { describeDeliveryError } from './outbox.js';
import { AlertStoreError, isUuid } from './rule-store.js';
import type { Alerts } from './service.js';

export interface AlertsRouterDeps {
  alerts: Pick<Alerts, 'rules' | 'channels' | 'silences' | 'states' | 'changed'>;
  delivery: DeliveryContext;
  /** requireAuth, at least: every route needs a user. */
  guards: readonly RequestHandler[];
}

/** Parses a body or query with a contract schema; a 400 naming each bad field otherwise. */
function parse<T extends z.ZodMiniType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  throw new HttpError(400, describeAlertIssues(parsed.error).join('; '), 'bad_parameter');
}

/** The `:id` of the path: a malformed one is a bad parameter (400), an unknown one a 404. */
function idOf(req: { params: Record<string, unknown> }): string {
  const id = String(req.params.id);
  if (!isUuid(id)) throw new HttpError(400, 'id: must be a UUID', 'bad_parameter');
  return id;
}

function storeError(err: unknown): never {
  if (err instanceof AlertStoreError) {
    throw new HttpError(err.code === 'not_found' ? 404 : 400, err.message, err.code);
  }
  throw err;
}

const CSV_COLUMNS = [
  'at',
  'host',
  'ruleId',
  'ruleName',
  'series',
  'from',
  'to',
  'value',
  'severity',
] as const;

function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  // Quote what would break the row, and defuse spreadsheet formulas.
  const safe = /^[=+\-@\t\r]/.test(text) && Number.isNaN(Number(text)) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The events as CSV, one line per transition, oldest first. */
export function eventsCsv(events: readonly AlertEvent[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const event of [...events].reverse())
    lines.push(CSV_COLUMNS.map((c) => csvField(event[c])).join(','));
  return `${lines.join('\n')}\n`;
}

/**
 * `/api/alerts`: everyone reads; admins change (viewers 403). Bodies and queries are checked
 * with the contract's schemas, a 400 naming each bad field. Channel secrets are never answered:
 * redacted for admins, the whole config withheld from viewers.
 */
export function createAlertsRouter(deps: AlertsRouterDeps): Router {
  const { alerts } = deps;
  const router = Router();
  const read = [...deps.guards];
  const admin = [...deps.guards, requireRole('admin')];

  router.get('/alerts', ...read, async (_req, res) => {
    res.json({ active: await alerts.states.active() });
  });

  router.get('/alerts/history', ...read, async (req, res) => {
    const query = parse(alertHistoryQuery, req.query);
    const events = await alerts.states.history(query);
    if (query.format === 'csv') {
      res
        .type('text/csv')
        .set('Content-Disposition', 'attachment; filename="alerts.csv"')
        .send(eventsCsv(events));
      return;
    }
    res.json({ events });
  });

  router.get('/alerts/rules', ...read, async (_req, res) => {
    res.json({ rules: await alerts.rules.list() });
  });
  router.post('/alerts/rules', ...admin, async (req, res) => {
    const rule = await alerts.rules.create(parse(alertRuleInput, req.body)).catch(storeError);
    alerts.changed();
    res.status(201).json({ rule });
  });
  router.put('/alerts/rules/:id', ...admin, async (req, res) => {
    const rule = await alerts.rules
      .update(idOf(req), parse(alertRuleInput, req.body))
      .catch(storeError);
    alerts.changed();
    res.json({ rule });
  });
  router.delete('/alerts/rules/:id', ...admin, async (req, res) => {
    await alerts.rules.remove(idOf(req)).catch(storeError);
    alerts.changed();
    res.status(204).end();
  });

  router.get('/alerts/channels', ...read, async (req, res) => {
    const role = req.user?.role ?? 'viewer';
    res.json({ channels: (await alerts.channels.list()).map((c) => redactChannel(c, role)) });
  });
  router.post('/alerts/channels', ...admin, async (req, res) => {
    const channel = await alerts.channels
      .create(parse(alertChannelInput, req.body))
      .catch(storeError);
    res.status(201).json({ channel: redactChannel(channel, 'admin') });
  });
  router.put('/alerts/channels/:id', ...admin, async (req, res) => {
    const input = parse(alertChannelInput, req.body);
    const channel = await alerts.channels.update(idOf(req), input).catch(storeError);
    res.json({ channel: redactChannel(channel, 'admin') });
  });
  router.delete('/alerts/channels/:id', ...admin, async (req, res) => {
    await alerts.channels.remove(idOf(req)).catch(storeError);
    res.status(204).end();
  });
  router.post('/alerts/channels/:id/test', ...admin, async (req, res) => {
    const channel = await alerts.channels.get(idOf(req));
    if (!channel) throw new HttpError(404, 'no such channel', 'not_found');
    const at = new Date().toISOString();
    try {
      await CHANNEL_SENDERS[channel.kind](
        channel,
        {
          id: `test-${Date.now()}`,
          payload: {
            event: {
              id: 1,
              ruleId: 'test',
              ruleName: 'Test notification',
              host: 'livestat',
              series: '',
              from: 'ok',
              to: 'firing',
              value: null,
              severity: 'info',
              at,
            },
            threshold: 0,
            comparison: '>',
            description: `A test from livestat: channel "${channel.name}" works.`,
          },
        },
        deps.delivery,
      );
      res.json({ delivered: true });
    } catch (err) {
      res.json({ delivered: false, error: describeDeliveryError(err) });
    }
  });

  router.get('/alerts/silences', ...read, async (_req, res) => {
    res.json({ silences: await alerts.silences.list() });
  });
  router.post('/alerts/silences', ...admin, async (req, res) => {
    const input = parse(silenceInput, req.body);
    const silence = await alerts.silences
      .create(input, req.user?.username ?? 'unknown')
      .catch(storeError);
    alerts.changed();
    res.status(201).json({ silence });
  });
  router.delete('/alerts/silences/:id', ...admin, async (req, res) => {
    await alerts.silences.remove(idOf(req)).catch(storeError);
    alerts.changed();
    res.status(204).end();
  });

  return router;
}
