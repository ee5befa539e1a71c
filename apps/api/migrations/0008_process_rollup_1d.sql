-- Per-day top processes (issue 14): like process_rollup_1h, one row per host and UTC day, each
-- element [pid, started (epoch s), name, user, cpuSeconds, peakRssBytes, ioBytes|null,
-- firstSeen ms, lastSeen ms, seen ms]. The batch writer merges ticks into it in their
-- transaction and keeps the union of the top PROCESS_ROLLUP_TOP (25) by CPU, RSS and I/O, so
-- a 30-day history reads 30 short rows rather than 720 hours. Kept as long as the hours.
CREATE TABLE process_rollup_1d (
  host text NOT NULL,
  bucket timestamptz NOT NULL,
  processes jsonb NOT NULL,
  PRIMARY KEY (host, bucket)
);
CREATE INDEX process_rollup_1d_bucket_brin ON process_rollup_1d USING brin (bucket);

-- The days already stored, from their hours, cut the way the writer cuts them (25 a measure).
WITH element AS (
  SELECT r.host, date_bin('1 day', r.bucket, timestamptz '1970-01-01 00:00:00+00') AS day, p
  FROM process_rollup_1h r, jsonb_array_elements(r.processes) AS p
), process AS (
  SELECT host, day, (p->>0)::int AS pid, (p->>1)::bigint AS started, p->>2 AS name,
         min(p->>3) AS usr, sum((p->>4)::float8) AS cpu_s, max((p->>5)::float8) AS peak_rss,
         sum((p->>6)::float8) AS io_b, min((p->>7)::float8) AS first_ms,
         max((p->>8)::float8) AS last_ms, sum((p->>9)::float8) AS seen_ms
  FROM element GROUP BY 1, 2, 3, 4, 5
), ranked AS (
  SELECT process.*,
         row_number() OVER (PARTITION BY host, day ORDER BY cpu_s DESC, pid) AS by_cpu,
         row_number() OVER (PARTITION BY host, day ORDER BY peak_rss DESC, pid) AS by_rss,
         row_number() OVER (PARTITION BY host, day ORDER BY io_b DESC NULLS LAST, pid) AS by_io
  FROM process
)
INSERT INTO process_rollup_1d (host, bucket, processes)
SELECT host, day, jsonb_agg(jsonb_build_array(pid, started, name, usr, cpu_s, peak_rss, io_b,
                                              first_ms, last_ms, seen_ms))
FROM ranked
WHERE by_cpu <= 25 OR by_rss <= 25 OR (by_io <= 25 AND io_b > 0)
GROUP BY host, day;
