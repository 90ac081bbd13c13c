-- 101 (collector): per-flush window counts and the inferred feature types of each model.
-- window_parts: one row per model x window x partition x flush, tagged with the offsets it
-- covers so that a flush that crashed before its consumer_offsets row is rolled back.
CREATE TABLE IF NOT EXISTS window_parts (
    model_id String,
    window_start DateTime64(3, 'UTC'),
    window_seconds UInt32,
    kafka_partition Int32,
    first_offset Int64,
    last_offset Int64,
    n UInt64,
    n_late UInt64,
    max_event_time DateTime64(3, 'UTC'),
    created_at DateTime64(3, 'UTC')
) ENGINE = MergeTree
ORDER BY (model_id, window_seconds, window_start, kafka_partition, first_offset);

CREATE TABLE IF NOT EXISTS model_features (
    model_id String,
    name String,
    kind LowCardinality(String),
    first_seen DateTime64(3, 'UTC')
) ENGINE = MergeTree
ORDER BY (model_id, name);
