-- 001: the tables every component needs. Times are UTC, millisecond precision.
CREATE TABLE IF NOT EXISTS events (
    model_id String,
    model_version LowCardinality(String),
    event_id String,
    timestamp DateTime64(3, 'UTC'),
    features_num Map(String, Float64),
    features_cat Map(String, String),
    features_null Array(String),
    pred_num Map(String, Float64),
    pred_cat Map(String, String),
    pred_probs Map(String, Array(Float64)),
    label Nullable(String),
    segments Map(String, String),
    late UInt8,
    ingested_at DateTime64(3, 'UTC'),
    kafka_partition Int32,
    kafka_offset Int64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (model_id, timestamp, event_id);

CREATE TABLE IF NOT EXISTS feedback (
    model_id String,
    event_id String,
    label String,
    timestamp DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC'),
    kafka_partition Int32,
    kafka_offset Int64
) ENGINE = MergeTree
ORDER BY (model_id, event_id);

CREATE TABLE IF NOT EXISTS profiles (
    model_id String,
    window_start DateTime64(3, 'UTC'),
    window_seconds UInt32,
    kafka_partition Int32,
    first_offset Int64,
    last_offset Int64,
    n UInt64,
    profile String,
    created_at DateTime64(3, 'UTC')
) ENGINE = MergeTree
ORDER BY (model_id, window_start, kafka_partition, first_offset);

CREATE TABLE IF NOT EXISTS samples (
    window_start DateTime64(3, 'UTC'),
    window_seconds UInt32,
    stratum String,
    hash UInt64,
    model_id String,
    model_version LowCardinality(String),
    event_id String,
    timestamp DateTime64(3, 'UTC'),
    features_num Map(String, Float64),
    features_cat Map(String, String),
    features_null Array(String),
    pred_num Map(String, Float64),
    pred_cat Map(String, String),
    pred_probs Map(String, Array(Float64)),
    label Nullable(String),
    segments Map(String, String),
    kafka_partition Int32,
    kafka_offset Int64
) ENGINE = MergeTree
ORDER BY (model_id, window_start, stratum, hash);

CREATE TABLE IF NOT EXISTS windows (
    model_id String,
    window_start DateTime64(3, 'UTC'),
    window_end DateTime64(3, 'UTC'),
    window_seconds UInt32,
    n_events UInt64,
    n_late UInt64,
    closed_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(closed_at)
ORDER BY (model_id, window_seconds, window_start);

CREATE TABLE IF NOT EXISTS references (
    model_id String,
    name String,
    kind LowCardinality(String),
    spec String,
    n_rows UInt64,
    created_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(created_at)
ORDER BY (model_id, name);

CREATE TABLE IF NOT EXISTS reference_events (
    reference_name String,
    model_id String,
    model_version LowCardinality(String),
    event_id String,
    timestamp DateTime64(3, 'UTC'),
    features_num Map(String, Float64),
    features_cat Map(String, String),
    features_null Array(String),
    pred_num Map(String, Float64),
    pred_cat Map(String, String),
    pred_probs Map(String, Array(Float64)),
    label Nullable(String),
    segments Map(String, String)
) ENGINE = MergeTree
ORDER BY (model_id, reference_name, event_id);

CREATE TABLE IF NOT EXISTS drift_results (
    model_id String,
    monitor String,
    window_start DateTime64(3, 'UTC'),
    window_end DateTime64(3, 'UTC'),
    segment String,
    feature String,
    metric LowCardinality(String),
    statistic Float64,
    threshold Float64,
    policy LowCardinality(String),
    drifted UInt8,
    p_value Nullable(Float64),
    severity Float64,
    n_ref UInt64,
    n_cur UInt64,
    fingerprint String,
    details String,
    computed_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(computed_at)
ORDER BY (model_id, monitor, window_start, segment, feature, metric, fingerprint);

CREATE TABLE IF NOT EXISTS alerts (
    alert_id String,
    model_id String,
    monitor String,
    window_start DateTime64(3, 'UTC'),
    rule String,
    state LowCardinality(String),
    severity Float64,
    summary String,
    details String,
    created_at DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY alert_id;

CREATE TABLE IF NOT EXISTS dead_letters (
    topic String,
    kafka_partition Int32,
    kafka_offset Int64,
    model_id String,
    reason LowCardinality(String),
    error String,
    raw String,
    raw_size UInt64,
    received_at DateTime64(3, 'UTC')
) ENGINE = MergeTree
ORDER BY (received_at, kafka_partition, kafka_offset);

CREATE TABLE IF NOT EXISTS consumer_offsets (
    group_id String,
    topic String,
    kafka_partition Int32,
    next_offset Int64,
    committed_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(committed_at)
ORDER BY (group_id, topic, kafka_partition);

CREATE TABLE IF NOT EXISTS collector_stats (
    flushed_at DateTime64(3, 'UTC'),
    collector_id String,
    consumed UInt64,
    stored UInt64,
    dead_lettered UInt64,
    late UInt64,
    batch_size UInt64,
    flush_ms Float64,
    lag Int64
) ENGINE = MergeTree
ORDER BY (flushed_at, collector_id);
