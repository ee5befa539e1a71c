-- Who it was (issue 14): each snapshot's top processes — the union of the top 10 by CPU, by RSS
-- and by I/O — as one compact row per snapshot, kept PROCESS_RETENTION_HOURS. Each element of
-- `processes` is [pid, started (epoch s), name, user, cpuPercent, rssBytes, ioBytesPerSec|null].
CREATE TABLE process_ticks (
  host text NOT NULL,
  ts timestamptz NOT NULL,
  interval_ms integer NOT NULL,
  processes jsonb NOT NULL,
  PRIMARY KEY (host, ts)
);
CREATE INDEX process_ticks_ts_brin ON process_ticks USING brin (ts);

-- The same per minute and per hour, one row per host and bucket, kept as long as the series
-- rollups: each process seen in the bucket's ticks with what it used there,
-- [pid, started (epoch s), name, user, cpuSeconds, peakRssBytes, ioBytes|null, firstSeen ms,
--  lastSeen ms, seen ms]. Maintained by the batch writer in the transaction of the ticks.
CREATE TABLE process_rollup_1m (
  host text NOT NULL,
  bucket timestamptz NOT NULL,
  processes jsonb NOT NULL,
  PRIMARY KEY (host, bucket)
);
CREATE INDEX process_rollup_1m_bucket_brin ON process_rollup_1m USING brin (bucket);

CREATE TABLE process_rollup_1h (
  host text NOT NULL,
  bucket timestamptz NOT NULL,
  processes jsonb NOT NULL,
  PRIMARY KEY (host, bucket)
);
CREATE INDEX process_rollup_1h_bucket_brin ON process_rollup_1h USING brin (bucket);

-- Command lines, once per process (pid and start time) rather than in every tick.
CREATE TABLE process_commands (
  host text NOT NULL,
  pid integer NOT NULL,
  started bigint NOT NULL,
  command text NOT NULL,
  last_seen timestamptz NOT NULL,
  PRIMARY KEY (host, pid, started)
);
CREATE INDEX process_commands_last_seen_brin ON process_commands USING brin (last_seen);
