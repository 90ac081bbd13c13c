-- 205: the monitors each pass was configured with, as (model_id, monitor): the dashboards
-- stop counting a backlog for a monitor taken out of the configuration. Rows written
-- before it have none (an empty array): a panel then lists every monitor, as before.
ALTER TABLE monitor_passes ADD COLUMN IF NOT EXISTS monitors Array(Tuple(String, String))
    DEFAULT [];
