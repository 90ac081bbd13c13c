-- 207: a silence ended early is a newer version of its row with an earlier end. Under
-- store.retention.results, rows are dated by their end (`until`), so that version expired
-- before the one it replaced and the silence came back, muting the model until its first
-- end. Ending a silence now deletes the versions it replaces (driftscope.alerts.state);
-- this removes those a store kept from before. It may run again, or in two processes.
DELETE FROM alert_silences WHERE (silence_id, created_at) NOT IN (SELECT silence_id, max(created_at) FROM alert_silences GROUP BY silence_id);
