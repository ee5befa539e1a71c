-- Alerts (issue 16): rules, channels, silences, the state of every (rule, host, series), every
-- transition, and the outbox of notifications. Everything the elected evaluator knows lives
-- here, so a restart or a new leader resumes where the last one stopped and sends nothing twice.

CREATE TABLE alert_rules (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  -- A history-catalogue path, a family with '*', or '' for the built-in host-down rule.
  series text NOT NULL,
  hosts text[] NOT NULL DEFAULT '{}',
  comparison text NOT NULL CHECK (comparison IN ('>', '>=', '<', '<=')),
  threshold double precision NOT NULL,
  recovery_threshold double precision,
  for_seconds integer NOT NULL CHECK (for_seconds BETWEEN 0 AND 86400),
  severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  enabled boolean NOT NULL DEFAULT true,
  builtin text UNIQUE CHECK (builtin IN ('host_down')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per fact about the alert tables as a whole: 'defaults_seeded' makes the default
-- rules appear once per deployment, even with several replicas starting together, and never
-- again after an admin deleted them.
CREATE TABLE alert_settings (
  key text PRIMARY KEY,
  value jsonb NOT NULL DEFAULT 'true'
);

-- `config` holds the secrets (webhook URLs, tokens, SMTP passwords): the API redacts them in
-- every answer, and nothing logs it.
CREATE TABLE alert_channels (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('webhook', 'ntfy', 'slack', 'telegram', 'email')),
  enabled boolean NOT NULL DEFAULT true,
  min_severity text NOT NULL DEFAULT 'info' CHECK (min_severity IN ('info', 'warning', 'critical')),
  config jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alert_silences (
  id uuid PRIMARY KEY,
  rule_id uuid REFERENCES alert_rules (id) ON DELETE CASCADE,
  host text,
  until timestamptz NOT NULL,
  reason text NOT NULL DEFAULT '',
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (rule_id IS NOT NULL OR host IS NOT NULL)
);

CREATE TABLE alert_states (
  rule_id uuid NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
  host text NOT NULL,
  -- The resolved series ('disk.filesystems./home.usedPercent'); '' for host down.
  series text NOT NULL,
  state text NOT NULL CHECK (state IN ('ok', 'pending', 'firing', 'resolved')),
  since timestamptz NOT NULL,
  firing_since timestamptz,
  value double precision,
  PRIMARY KEY (rule_id, host, series)
);

-- The history keeps the rule's name and severity as they were: it outlives an edited or
-- deleted rule, so no foreign key.
CREATE TABLE alert_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rule_id uuid NOT NULL,
  rule_name text NOT NULL,
  host text NOT NULL,
  series text NOT NULL,
  from_state text NOT NULL,
  to_state text NOT NULL,
  value double precision,
  threshold double precision,
  severity text NOT NULL,
  silenced boolean NOT NULL DEFAULT false,
  at timestamptz NOT NULL
);
CREATE INDEX alert_events_at ON alert_events (at);
CREATE INDEX alert_events_host_at ON alert_events (host, at);
CREATE INDEX alert_events_rule_at ON alert_events (rule_id, at);

-- One row per (transition, channel). `id` is the dedupe id sent with the notification: a
-- receiver that sees it twice (at-least-once delivery) drops the repeat.
CREATE TABLE notification_outbox (
  id uuid PRIMARY KEY,
  channel_id uuid NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
  event_id bigint REFERENCES alert_events (id) ON DELETE SET NULL,
  payload jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at)
  WHERE delivered_at IS NULL;
CREATE INDEX notification_outbox_delivered ON notification_outbox (channel_id, delivered_at)
  WHERE delivered_at IS NOT NULL;
