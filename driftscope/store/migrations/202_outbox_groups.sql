-- 202: outbox rows carry a group key: the dispatcher sends the pending rows of one
-- model × window × event × channel as one message (two monitors firing in one window
-- make one Slack message, not two).
ALTER TABLE alert_outbox ADD COLUMN IF NOT EXISTS group_key String DEFAULT '';
