-- 102: the log the offsets were read from. last_record: a fingerprint of the last record
-- read (0: unknown), checked before the collector seeks; log_base: where the current log's
-- offset 0 lies in the store's offsets, which go on increasing across logs (a restarted
-- embedded broker, a topic created again). See driftscope/collector/log_epoch.py.
ALTER TABLE consumer_offsets ADD COLUMN IF NOT EXISTS log_base Int64 DEFAULT 0;
ALTER TABLE consumer_offsets ADD COLUMN IF NOT EXISTS last_record UInt64 DEFAULT 0;
