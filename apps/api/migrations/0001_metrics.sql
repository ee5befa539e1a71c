-- One row per collector per snapshot (the seeds' bulk INSERT). The unique key serves the
-- (host, metric_type, ts) range scans of history and makes a retried batch a no-op.
CREATE TABLE metrics_snapshots (
  id bigserial PRIMARY KEY,
  host text NOT NULL,
  ts timestamptz NOT NULL,
  metric_type text NOT NULL,
  metric_data jsonb NOT NULL,
  CONSTRAINT metrics_snapshots_host_type_ts_key UNIQUE (host, metric_type, ts)
);
-- Rows arrive in time order, so a BRIN index finds the oldest for retention at almost no cost.
CREATE INDEX metrics_snapshots_ts_brin ON metrics_snapshots USING brin (ts);

-- Rollup tiers: per series and bucket, enough to merge buckets exactly (avg = sum / samples).
-- Maintained incrementally by the batch writer in the transaction that inserts the raw rows.
CREATE TABLE metrics_rollup_1m (
  host text NOT NULL,
  series text NOT NULL,
  bucket timestamptz NOT NULL,
  samples integer NOT NULL,
  sum double precision NOT NULL,
  min double precision NOT NULL,
  max double precision NOT NULL,
  PRIMARY KEY (host, series, bucket)
);
CREATE INDEX metrics_rollup_1m_bucket_brin ON metrics_rollup_1m USING brin (bucket);

CREATE TABLE metrics_rollup_1h (
  host text NOT NULL,
  series text NOT NULL,
  bucket timestamptz NOT NULL,
  samples integer NOT NULL,
  sum double precision NOT NULL,
  min double precision NOT NULL,
  max double precision NOT NULL,
  PRIMARY KEY (host, series, bucket)
);
CREATE INDEX metrics_rollup_1h_bucket_brin ON metrics_rollup_1h USING brin (bucket);

-- Every host ever written, so listing hosts never scans the metrics.
CREATE TABLE hosts (
  host text PRIMARY KEY,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL
);
