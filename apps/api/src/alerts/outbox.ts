import type { Logger } from '../logger.js';
import type { Database } from '../storage/db.js';
import type { ChannelStore, StoredChannel } from './channel-store.js';
import { CHANNEL_SENDERS } from './channels/index.js';
import type { DeliveryContext, Notification } from './channels/types.js';
import type { NotificationPayload } from './state-store.js';

export interface OutboxOptions {
  db: Database;
  channels: ChannelStore;
  logger: Logger;
  context: DeliveryContext;
  /** First retry delay; doubled per attempt up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Deliveries per channel per minute at most; the rest wait in the outbox. */
  ratePerMinute: number;
  /**
   * How often the outbox is looked at when nothing wakes it (default 10 s): for rows another
   * process wrote (a leader that lost its lease mid-transition). Rows this process queues wake
   * it, and rows waiting for a retry or for their channel's rate are looked at when they fall due.
   */
  pollMs?: number;
  /** How long a claimed row is left to its sender before another may take it (default 60 s). */
  claimMs?: number;
}

/** The sender of the outbox: runs on the elected evaluator only. */
export interface OutboxSender {
  start(): void;
  /** Looks at the outbox now (after a transition queued rows). */
  wake(): void;
  /** Stops claiming; resolves when the deliveries under way have finished. */
  stop(): Promise<void>;
}

/** The delay before attempt `attempts + 1`: base × 2^(attempts − 1), capped. */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
}

/** A failure's words without any URL (webhook and Telegram URLs are secrets). */
export function describeDeliveryError(err: unknown): string {
  const error = err as Error & { cause?: { code?: string; message?: string }; code?: string };
  const cause = error.cause?.code ?? error.code;
  const text = `${error.message}${cause && !error.message.includes(cause) ? ` (${cause})` : ''}`;
  return text.replace(/https?:\/\/\S+/g, '<url>').slice(0, 500);
}

const BATCH = 50;
const MINUTE_MS = 60_000;
/** The next look after a pass that failed or found its due rows claimed by another sender. */
const RECLAIM_MS = 1000;

/**
 * Delivers `notification_outbox` rows at least once: rows are claimed with
 * `FOR UPDATE SKIP LOCKED` by pushing their `next_attempt_at` past the claim time (so a sender
 * that dies leaves them to be retried, and two senders never take the same row), delivered
 * outside any transaction, then marked delivered or given their next attempt with
 * exponential backoff. Nothing is ever dropped: a dead receiver only delays its rows, and a
 * channel over its rate keeps its excess in the outbox for the next minute.
 */
export function createOutboxSender(options: OutboxOptions): OutboxSender {
  const { db, logger, context, retryBaseMs, retryMaxMs, ratePerMinute } = options;
  const pollMs = options.pollMs ?? 10_000;
  const claimMs = options.claimMs ?? 60_000;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();
  let again = false;
  let busy = false;

  async function deliverOne(
    row: { id: string; channel_id: string; payload: NotificationPayload; attempts: number },
    channel: StoredChannel | undefined,
  ): Promise<void> {
    if (!channel) return; // deleted meanwhile: its rows went with it (ON DELETE CASCADE)
    const notification: Notification = { id: row.id, payload: row.payload };
    try {
      await CHANNEL_SENDERS[channel.kind](channel, notification, context);
      await db.query(
        `UPDATE notification_outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL
         WHERE id = $1`,
        [row.id],
      );
      logger.info(
        { channel: channel.name, kind: channel.kind, id: row.id },
        'alert notification delivered',
      );
    } catch (err) {
      const attempts = row.attempts + 1;
      const delay = retryDelayMs(attempts, retryBaseMs, retryMaxMs);
      const message = describeDeliveryError(err);
      await db.query(
        `UPDATE notification_outbox SET attempts = $2, last_error = $3,
           next_attempt_at = now() + $4 * interval '1 millisecond' WHERE id = $1`,
        [row.id, attempts, message, delay],
      );
      logger.warn(
        {
          channel: channel.name,
          kind: channel.kind,
          id: row.id,
          attempts,
          retryInMs: delay,
          error: message,
        },
        'alert notification failed; will retry',
      );
    }
  }

  /**
   * Milliseconds until the next undelivered row falls due (≤ 0: due now), by the database's
   * clock; null when every row is delivered. One index-only look at the partial index of
   * undelivered rows: the outbox is empty nearly always.
   */
  async function nextDueMs(): Promise<number | null> {
    const [row] = await db.query<{ ms: number | null }>(
      `SELECT (extract(epoch FROM min(next_attempt_at) - now()) * 1000)::float8 AS ms
       FROM notification_outbox WHERE delivered_at IS NULL`,
    );
    return row?.ms ?? null;
  }

  /**
   * One pass; resolves with how long to wait before the next. It claims only when a row is
   * due: on the embedded database each statement is a round trip to its thread, and a claim
   * every second was the largest statement of an idle API there (bench/RESULTS.md, bench/
   * footprint). After a delivery the next pass follows at once, and finds when the rows left
   * (retries, rows held for their channel's rate) fall due.
   */
  async function runPass(): Promise<number> {
    const due = await nextDueMs();
    if (due === null) return pollMs;
    // A few milliseconds past the row's time: the claim compares with the database's clock.
    if (due > 0) return Math.min(pollMs, Math.ceil(due) + 5);
    // One statement is a transaction of its own: no BEGIN and COMMIT around it.
    const claimed = await db.query<{
      id: string;
      channel_id: string;
      payload: NotificationPayload;
      attempts: number;
    }>(
      `UPDATE notification_outbox o SET next_attempt_at = now() + $2 * interval '1 millisecond'
         FROM (SELECT id FROM notification_outbox
               WHERE delivered_at IS NULL AND next_attempt_at <= now()
               ORDER BY next_attempt_at, created_at LIMIT $1 FOR UPDATE SKIP LOCKED) due
         WHERE o.id = due.id
         RETURNING o.id::text AS id, o.channel_id::text AS channel_id, o.payload, o.attempts, o.created_at`,
      [BATCH, claimMs],
    );
    // Due rows, none of them free: another sender's claim holds them for the moment.
    if (claimed.length === 0) return Math.min(pollMs, RECLAIM_MS);
    claimed.sort(
      (a, b) =>
        +(a as unknown as { created_at: Date }).created_at -
        +(b as unknown as { created_at: Date }).created_at,
    );
    const channels = new Map((await options.channels.list()).map((c) => [c.id, c]));
    // What each channel was sent in the last minute, whoever sent it (a previous leader too).
    const recent = await db.query<{ channel_id: string; sent: number; oldest: Date }>(
      `SELECT channel_id::text AS channel_id, count(*)::int AS sent, min(delivered_at) AS oldest
       FROM notification_outbox WHERE delivered_at > now() - interval '1 minute' GROUP BY channel_id`,
    );
    const budget = new Map(
      recent.map((r) => [r.channel_id, { left: ratePerMinute - r.sent, oldest: r.oldest }]),
    );
    const byChannel = new Map<string, typeof claimed>();
    for (const row of claimed) {
      const list = byChannel.get(row.channel_id) ?? [];
      list.push(row);
      byChannel.set(row.channel_id, list);
    }
    await Promise.all(
      [...byChannel].map(async ([channelId, rows]) => {
        const left = budget.get(channelId)?.left ?? ratePerMinute;
        const now = rows.slice(0, Math.max(0, left));
        const held = rows.slice(now.length);
        if (held.length > 0) {
          // Over the rate: back in the outbox until the oldest of the minute's sends ages out.
          const oldest = budget.get(channelId)?.oldest?.getTime() ?? Date.now();
          const waitMs = Math.max(1000, oldest + MINUTE_MS - Date.now());
          await db.query(
            `UPDATE notification_outbox SET next_attempt_at = now() + $2 * interval '1 millisecond'
             WHERE id = ANY($1::uuid[])`,
            [held.map((row) => row.id), waitMs],
          );
          logger.info(
            { channel: channels.get(channelId)?.name, held: held.length },
            'alert channel over its rate; notifications held',
          );
        }
        // One channel's notifications in order; channels side by side.
        for (const row of now) await deliverOne(row, channels.get(channelId));
      }),
    );
    return 0;
  }

  function schedule(delayMs: number): void {
    clearTimeout(timer);
    if (!running) return;
    timer = setTimeout(tick, delayMs);
  }

  function tick(): void {
    if (!running) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    again = false;
    pass = runPass()
      .catch((err: unknown) => {
        logger.warn({ error: describeDeliveryError(err) }, 'alert outbox pass failed');
        return Math.min(pollMs, RECLAIM_MS);
      })
      .then((delayMs) => {
        busy = false;
        schedule(again ? 0 : delayMs);
      });
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    wake() {
      if (running) schedule(0);
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await pass;
    },
  };
}
