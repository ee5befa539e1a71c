-- The snapshot's envelope, so a snapshot read back for `resume` is the one that was streamed.
-- Nullable: rows written before this migration have neither.
ALTER TABLE metrics_snapshots ADD COLUMN seq bigint, ADD COLUMN interval_ms integer;
