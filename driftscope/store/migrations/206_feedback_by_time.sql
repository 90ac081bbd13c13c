-- 206: feedback readable by (model, time), as events are. Every read that joins labels
-- (driftscope.store.labels) looked each event's id up in all of a model's feedback: a
-- live pass of a 5,000-events-a-minute model took 1.2 s with 10 million labels stored,
-- 3.9 s with 30 million (BENCHMARKS.md, "Labels of a long-running model"). A projection
-- ordered by (model, time) serves a read with a lower bound on the feedback's time: it
-- scans a few minutes of it (0.4 and 0.75 s a pass). The table, its name, its key and
-- its TTL stay: every statement may run again, or in two processes at once, and a
-- collector of an older release may go on writing meanwhile. A lightweight DELETE (the collector's
-- recovery) rebuilds the projection of the parts it touches.
ALTER TABLE feedback MODIFY SETTING lightweight_mutation_projection_mode = 'rebuild';
ALTER TABLE feedback ADD PROJECTION IF NOT EXISTS by_time (SELECT * ORDER BY model_id, timestamp);
ALTER TABLE feedback MATERIALIZE PROJECTION by_time SETTINGS mutations_sync = 2;
