-- 201: monitor bookkeeping, the alert outbox, retrain requests and silences.
CREATE TABLE IF NOT EXISTS monitor_windows (
    model_id String,
    monitor String,
    window_start DateTime64(3, 'UTC'),
    window_end DateTime64(3, 'UTC'),
    fingerprint String,
    bad UInt8,
    n_cur UInt64,
    summary String,
    processed_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(processed_at)
ORDER BY (model_id, monitor, window_start);

CREATE TABLE IF NOT EXISTS alert_outbox (
    delivery_id String,
    alert_id String,
    kind LowCardinality(String),
    channel LowCardinality(String),
    payload String,
    status LowCardinality(String),
    attempts UInt32,
    last_error String,
    created_at DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC'),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY delivery_id;

CREATE TABLE IF NOT EXISTS retrain_requests (
    request_id String,
    model_id String,
    policy String,
    window_start DateTime64(3, 'UTC'),
    window_end DateTime64(3, 'UTC'),
    train_since DateTime64(3, 'UTC'),
    train_until DateTime64(3, 'UTC'),
    evidence String,
    created_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(created_at)
ORDER BY request_id;

CREATE TABLE IF NOT EXISTS alert_silences (
    silence_id String,
    model_id String,
    monitor String,
    until DateTime64(3, 'UTC'),
    reason String,
    created_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(created_at)
ORDER BY silence_id;
