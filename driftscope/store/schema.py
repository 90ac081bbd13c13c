"""Table and column names of the store: the one place other code learns them from.

The DDL lives in ``migrations/*.sql`` (applied in order, recorded in
``schema_migrations``). Dashboards and queries import the names below and never spell a
table or column themselves; ``tests/store`` checks that these names match the migrated
database.
"""

from __future__ import annotations

from typing import Final


class _Table:
    """A table name plus its columns: ``str(EVENTS)`` is the table, ``EVENTS.model_id`` a column.

    Examples
    --------
    >>> f"SELECT {EVENTS.model_id} FROM {EVENTS}"
    'SELECT model_id FROM events'
    """

    def __init__(self, table_name: str, *columns: str) -> None:
        self.table_name: Final = table_name
        self.columns: Final = columns
        for col in columns:
            setattr(self, col, col)

    def __str__(self) -> str:
        return self.table_name

    def __getattr__(self, item: str) -> str:  # only reached for unknown names
        raise AttributeError(f"table {self.table_name} has no column {item!r}")


EVENT_PAYLOAD = (
    "model_id",
    "model_version",
    "event_id",
    "timestamp",
    "features_num",
    "features_cat",
    "features_null",
    "pred_num",
    "pred_cat",
    "pred_probs",
    "label",
    "segments",
)
KAFKA_POS = ("kafka_partition", "kafka_offset")

EVENTS = _Table("events", *EVENT_PAYLOAD, "late", "ingested_at", *KAFKA_POS)
FEEDBACK = _Table(
    "feedback", "model_id", "event_id", "label", "timestamp", "ingested_at", *KAFKA_POS
)
PROFILES = _Table(
    "profiles",
    "model_id",
    "window_start",
    "window_seconds",
    "kafka_partition",
    "first_offset",
    "last_offset",
    "n",
    "profile",
    "created_at",
)
SAMPLES = _Table(
    "samples", "window_start", "window_seconds", "stratum", "hash", *EVENT_PAYLOAD, *KAFKA_POS
)
WINDOWS = _Table(
    "windows",
    "model_id",
    "window_start",
    "window_end",
    "window_seconds",
    "n_events",
    "n_late",
    "closed_at",
)
REFERENCES = _Table(
    "references", "model_id", "name", "kind", "spec", "n_rows", "created_at"
)
REFERENCE_EVENTS = _Table("reference_events", "reference_name", *EVENT_PAYLOAD)
DRIFT_RESULTS = _Table(
    "drift_results",
    "model_id",
    "monitor",
    "window_start",
    "window_end",
    "segment",
    "feature",
    "metric",
    "statistic",
    "threshold",
    "policy",
    "drifted",
    "p_value",
    "severity",
    "n_ref",
    "n_cur",
    "fingerprint",
    "details",
    "computed_at",
)
ALERTS = _Table(
    "alerts",
    "alert_id",
    "model_id",
    "monitor",
    "window_start",
    "rule",
    "state",
    "severity",
    "summary",
    "details",
    "created_at",
    "updated_at",
)
DEAD_LETTERS = _Table(
    "dead_letters",
    "topic",
    "kafka_partition",
    "kafka_offset",
    "model_id",
    "reason",
    "error",
    "raw",
    "raw_size",
    "received_at",
    "event_time",  # 103: the event's own time, when readable (NULL: received_at counts)
)
CONSUMER_OFFSETS = _Table(
    "consumer_offsets",
    "group_id",
    "topic",
    "kafka_partition",
    "next_offset",
    "committed_at",
    "log_base",
    "last_record",
)
COLLECTOR_STATS = _Table(
    "collector_stats",
    "flushed_at",
    "collector_id",
    "consumed",
    "stored",
    "dead_lettered",
    "late",
    "batch_size",
    "flush_ms",
    "lag",
)
SCHEMA_MIGRATIONS = _Table("schema_migrations", "version", "name", "applied_at")

ALL_TABLES: tuple[_Table, ...] = (
    EVENTS,
    FEEDBACK,
    PROFILES,
    SAMPLES,
    WINDOWS,
    REFERENCES,
    REFERENCE_EVENTS,
    DRIFT_RESULTS,
    ALERTS,
    DEAD_LETTERS,
    CONSUMER_OFFSETS,
    COLLECTOR_STATS,
    SCHEMA_MIGRATIONS,
)

# -- 201: monitor bookkeeping, alert outbox, retrain requests, silences -----------------
MONITOR_WINDOWS = _Table(
    "monitor_windows",
    "model_id",
    "monitor",
    "window_start",
    "window_end",
    "fingerprint",
    "bad",
    "n_cur",
    "summary",
    "processed_at",
)
ALERT_OUTBOX = _Table(
    "alert_outbox",
    "delivery_id",
    "alert_id",
    "kind",
    "channel",
    "payload",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "updated_at",
    "version",
    "group_key",  # 202_outbox_groups.sql
    "send_key",  # 203_outbox_send_keys.sql
)
RETRAIN_REQUESTS = _Table(
    "retrain_requests",
    "request_id",
    "model_id",
    "policy",
    "window_start",
    "window_end",
    "train_since",
    "train_until",
    "evidence",
    "created_at",
)
ALERT_SILENCES = _Table(
    "alert_silences", "silence_id", "model_id", "monitor", "until", "reason", "created_at"
)
# -- 203: monitor passes (205: the monitors configured in each) -------------------------
MONITOR_PASSES = _Table("monitor_passes", "finished_at", "windows", "monitors")

ALL_TABLES = (*ALL_TABLES, MONITOR_WINDOWS, ALERT_OUTBOX, RETRAIN_REQUESTS, ALERT_SILENCES,
              MONITOR_PASSES)

# -- 101_collector.sql (collector) ----------------------------------------------------
WINDOW_PARTS = _Table(
    "window_parts",
    "model_id",
    "window_start",
    "window_seconds",
    "kafka_partition",
    "first_offset",
    "last_offset",
    "n",
    "n_late",
    "max_event_time",
    "created_at",
)
"""Per-flush, per-partition event counts of a window; ``windows`` counts are their sums."""
MODEL_FEATURES = _Table("model_features", "model_id", "name", "kind", "first_seen")
"""The type (``numeric``, ``categorical``, ``probs``) first seen for each feature/prediction."""

# -- 204: merged profiles (the monitor's) ---------------------------------------------
MERGED_PROFILES = _Table(
    "merged_profiles",
    "model_id",
    "window_seconds",
    "window_start",
    "parts",
    "n",
    "part_hash",
    "profile",
    "created_at",
)
"""A window's profile parts merged by the monitor, with the figures of the parts merged
(``driftscope.monitor.profiled``): read instead of the parts while they match."""
ALL_TABLES = (*ALL_TABLES, MERGED_PROFILES)

# -- 208: model versions (the collector's) ----------------------------------------------
MODEL_VERSIONS = _Table("model_versions", "model_id", "model_version", "first_seen", "last_seen")
"""When each version of a model served, by event time: the collector writes a row per
model × version of each flush (min and max event time); read ``min(first_seen)``,
``max(last_seen)`` grouped by model and version (rows are merged by min and max)."""
ALL_TABLES = (*ALL_TABLES, MODEL_VERSIONS)
