-- 103: a dead letter's own event time, when the message had a readable timestamp (an
-- event refused for a type change, a bad feature, a missing field): the monitor counts
-- schema violations in the window of their event time, as it counts events (a replay or a
-- backfill's violations fell outside every window by their time of receipt). NULL when the
-- message had none (not JSON, no or a bad timestamp): then the time of receipt counts.
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS event_time Nullable(DateTime64(3, 'UTC'));
