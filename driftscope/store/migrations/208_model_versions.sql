-- 208: when each version of a model served, by event time: one row per model x version,
-- the first and last event it made. The collector adds a row per (model, version) of each
-- flush (driftscope.collector.sink, every logging mode, events without a version and
-- late ones left out: a replay or a skewed clock moves no marker); the Deployments
-- annotation marks a version's first_seen. Only min and max are kept, so rows written
-- twice change nothing: a flush retried, or rolled back and read
-- again, and the fill below (from the raw events and samples a store already holds; a
-- model logged only as profiles keeps no version of its past events) may run again, or
-- in two processes at once. Read it grouped: min(first_seen), max(last_seen).
CREATE TABLE IF NOT EXISTS model_versions (
    model_id String,
    model_version LowCardinality(String),
    first_seen SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
) ENGINE = AggregatingMergeTree
ORDER BY (model_id, model_version);

INSERT INTO model_versions (model_id, model_version, first_seen, last_seen)
SELECT model_id, model_version, min(timestamp), max(timestamp)
FROM events WHERE model_version != '' AND NOT late GROUP BY model_id, model_version;

INSERT INTO model_versions (model_id, model_version, first_seen, last_seen)
SELECT model_id, model_version, min(timestamp), max(timestamp)
FROM samples WHERE model_version != '' GROUP BY model_id, model_version;
