import type { ActiveAlert, AlertMessage, AlertRule, AppMessage } from '@livestat/contracts';
import type { Logger } from '../logger.js';
import type { Database } from '../storage/db.js';
import type { Bus } from '../stream/bus.js';
import { createChannelStore, type ChannelStore } from './channel-store.js';
import type { DeliveryContext } from './channels/types.js';
import { createEvaluator, type AlertTransition, type Evaluator } from './evaluator.js';
import type { AlertFeed } from './feed.js';
import type { Leadership } from './leader.js';
import { createOutboxSender, type OutboxOptions, type OutboxSender } from './outbox.js';
import { seedFromRollups } from './rollup-seed.js';
import { createRuleStore, type RuleStore } from './rule-store.js';
import { createSilenceStore, type SilenceStore } from './silence-store.js';
import { createStateStore, type StateStore } from './state-store.js';

export interface AlertsOptions {
  db: Database;
  bus: Bus;
  /** Every host's `app` messages (the app bus): rules on `app.…` series read them. */
  apps?: { subscribe(handler: (message: { message: AppMessage }) => void): () => void };
  feed: AlertFeed;
  leadership: Leadership;
  logger: Logger;
  delivery: DeliveryContext;
  outbox: Pick<OutboxOptions, 'retryBaseMs' | 'retryMaxMs' | 'ratePerMinute' | 'pollMs'>;
  /** How often host down is checked (default 1 s). */
  hostCheckMs?: number;
  /** How often the leader re-reads the rules when no change was announced (default 30 s). */
  rulesRefreshMs?: number;
}

/** Alerts in one process: the stores every replica serves, and the evaluator while it leads. */
export interface Alerts {
  rules: RuleStore;
  channels: ChannelStore;
  silences: SilenceStore;
  states: StateStore;
  /** The active alerts as last announced (for `/metrics` and a socket's greeting). */
  active(): readonly ActiveAlert[];
  /** Tells the leader (wherever it runs) to re-read the rules, and every replica the active list. */
  changed(): void;
  /** Called with each alert message's JSON, for the sockets. */
  onMessage(listener: (text: string) => void): void;
  /** Starts once the database is migrated: seeds the defaults, follows leadership. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** One unsubscribe for two subscriptions (the second may be absent). */
function both(first: () => void, second: (() => void) | undefined): () => void {
  return () => {
    first();
    second?.();
  };
}

/**
 * Wires rules, evaluator, stores, outbox and feed. While this process leads it subscribes to
 * the bus (every host's snapshots) and the app bus (their applications' metrics), resumes the stored states, records each transition (state,
 * event, outbox rows in one transaction), announces it on the feed and wakes the outbox; when
 * it stops leading it lets go of all of it, and the next leader resumes from the database.
 */
export function createAlerts(options: AlertsOptions): Alerts {
  const { db, bus, feed, leadership, logger } = options;
  const rules = createRuleStore(db);
  const channels = createChannelStore(db);
  const silences = createSilenceStore(db);
  const states = createStateStore(db);
  const listeners = new Set<(text: string) => void>();
  let active: ActiveAlert[] = [];
  let started = false;

  let lead: {
    evaluator: Evaluator;
    outbox: OutboxSender;
    unsubscribe: () => void;
    timers: NodeJS.Timeout[];
    chain: Promise<void>;
  } | null = null;

  async function announceActive(): Promise<ActiveAlert[]> {
    active = await states.active();
    return active;
  }

  function record(transition: AlertTransition): void {
    if (!lead) return;
    const current = lead;
    current.chain = current.chain.then(async () => {
      try {
        const { event, silenced, queued } = await states.record(transition);
        logger.info(
          {
            rule: transition.rule.name,
            host: transition.host,
            series: transition.series,
            from: event.from,
            to: event.to,
            silenced,
            queued,
          },
          'alert transition',
        );
        const message: AlertMessage = { type: 'alert', event, active: await states.active() };
        feed.publish({ kind: 'alert', text: JSON.stringify(message) });
        if (queued > 0) current.outbox.wake();
      } catch (err) {
        logger.error(
          { err, rule: transition.rule.name, host: transition.host },
          'alert transition not stored',
        );
      }
    });
  }

  async function loadRules(evaluator: Evaluator): Promise<AlertRule[]> {
    const list = await rules.list();
    evaluator.setRules(list);
    return list;
  }

  async function becomeLeader(): Promise<void> {
    if (lead) return;
    const evaluator = createEvaluator({ onTransition: record });
    const outbox = createOutboxSender({
      db,
      channels,
      logger,
      context: options.delivery,
      ...options.outbox,
    });
    const list = await loadRules(evaluator);
    evaluator.resume(await states.states());
    try {
      const buckets = await seedFromRollups(db, evaluator, list, Date.now());
      if (buckets > 0) logger.info({ buckets }, 'alert windows filled from the 1-minute rollups');
    } catch (err) {
      // Windows then fill from the live stream alone: slower to fire, never wrong.
      logger.warn({ err }, 'alert windows not filled from the rollups');
    }
    if (!leadership.isLeader() || !started) return;
    const hostCheckMs = options.hostCheckMs ?? 1000;
    lead = {
      evaluator,
      outbox,
      unsubscribe: both(
        bus.subscribe(({ snapshot }) => evaluator.observe(snapshot)),
        options.apps?.subscribe(({ message }) => evaluator.observeApp(message)),
      ),
      timers: [
        setInterval(() => evaluator.checkHosts(Date.now()), hostCheckMs),
        setInterval(
          () => void loadRules(evaluator).catch(() => undefined),
          options.rulesRefreshMs ?? 30_000,
        ),
      ],
      chain: Promise.resolve(),
    };
    // Hosts already streaming count as seen now: host down then needs a full silence.
    for (const message of await bus.latest()) evaluator.observe(message.snapshot);
    outbox.start();
    logger.info({ rules: (await rules.list()).length }, 'alert evaluator started');
  }

  async function resign(): Promise<void> {
    const current = lead;
    lead = null;
    if (!current) return;
    current.unsubscribe();
    for (const timer of current.timers) clearInterval(timer);
    await current.chain;
    await current.outbox.stop();
    logger.info('alert evaluator stopped');
  }

  feed.subscribe((message) => {
    if (message.kind === 'rules') {
      if (lead) void loadRules(lead.evaluator).catch(() => undefined);
      void announceActive().catch(() => undefined);
      return;
    }
    try {
      active = (JSON.parse(message.text) as AlertMessage).active;
    } catch {
      return;
    }
    for (const listener of listeners) listener(message.text);
  });

  let leadChange: Promise<void> = Promise.resolve();
  leadership.onChange((leader) => {
    leadChange = leadChange
      .then(() => (leader && started ? becomeLeader() : resign()))
      .catch((err: unknown) => logger.error({ err }, 'alert evaluator failed to start'));
  });

  return {
    rules,
    channels,
    silences,
    states,
    active: () => active,
    changed() {
      feed.publish({ kind: 'rules' });
    },
    onMessage(listener) {
      listeners.add(listener);
    },
    async start() {
      await rules.seedDefaults();
      await announceActive();
      started = true;
      if (leadership.isLeader()) {
        leadChange = leadChange
          .then(becomeLeader)
          .catch((err: unknown) => logger.error({ err }, 'alert evaluator failed to start'));
        await leadChange;
      }
    },
    async stop() {
      started = false;
      await leadership.stop();
      await leadChange;
      await resign();
      await feed.close();
    },
  };
}
