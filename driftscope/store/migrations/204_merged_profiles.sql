-- 204: a window's profile parts merged once by the monitor, with the figures of the parts
-- it merged (their count, events and a hash of their identities): a later read (another
-- process, after a restart) deserializes one profile instead of every flush's part, as
-- long as the window's parts still have these figures.
CREATE TABLE IF NOT EXISTS merged_profiles (
    model_id String,
    window_seconds UInt32,
    window_start DateTime64(3, 'UTC'),
    parts UInt64,
    n UInt64,
    part_hash UInt64,
    profile String,
    created_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(created_at)
ORDER BY (model_id, window_seconds, window_start);
