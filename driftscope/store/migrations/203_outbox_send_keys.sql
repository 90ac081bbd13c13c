-- 203: before its first attempt a message's members are fixed under a send key (status
-- 'sending'), so a retry after a crash or a failure sends the same members under the same
-- idempotency key. monitor_passes: when each monitor pass finished; a dispatcher beside
-- the monitor sends a group only once the pass that enqueued it is over.
ALTER TABLE alert_outbox ADD COLUMN IF NOT EXISTS send_key String DEFAULT '';

CREATE TABLE IF NOT EXISTS monitor_passes (
    finished_at DateTime64(3, 'UTC'),
    windows UInt32
) ENGINE = MergeTree
ORDER BY finished_at
TTL toDateTime(finished_at) + INTERVAL 7 DAY;
