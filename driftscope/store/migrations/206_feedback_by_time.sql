-- 206: feedback ordered by (model, time), as events are. Every read that joins labels
-- (driftscope.store.labels) looked each event's id up in all of a model's feedback: a
-- live pass of a 5,000-events-a-minute model took 1.2 s with 10 million labels stored,
-- 3.5 s with 30 million (BENCHMARKS.md, "Labels of a long-running model"). Given a lower
-- bound on the feedback's time, a read now scans a few minutes of it (0.3 s a pass). The table is copied whole and swapped in at once (EXCHANGE); run
-- again after a crash part way, it copies again from whichever table is `feedback`. Run
-- it with the collectors stopped, as `docker compose` does (its `migrate` service):
-- feedback stored between the copy and the swap would be left behind. (Labels given in
-- more than 100 months are copied too: no limit on the partitions one insert writes.)
DROP TABLE IF EXISTS feedback_by_time;
CREATE TABLE feedback_by_time (
    model_id String,
    event_id String,
    label String,
    timestamp DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC'),
    kafka_partition Int32,
    kafka_offset Int64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (model_id, timestamp, event_id);
INSERT INTO feedback_by_time SELECT model_id, event_id, label, timestamp, ingested_at,
    kafka_partition, kafka_offset FROM feedback
    SETTINGS max_partitions_per_insert_block = 0;
EXCHANGE TABLES feedback AND feedback_by_time;
DROP TABLE feedback_by_time;
