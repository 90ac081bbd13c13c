"""The Collector and system dashboard's panels, from ``collector_stats`` and dead letters."""

from __future__ import annotations

from driftscope.dashboards.conventions import counts_per_interval
from driftscope.dashboards.spec import PanelSpec
from driftscope.store import schema

C = schema.COLLECTOR_STATS
DL = schema.DEAD_LETTERS


def throughput() -> PanelSpec:
    """Messages consumed, stored and dead-lettered per second."""
    sql = f"""SELECT $__timeInterval({C.flushed_at}) AS time,
  sum({C.consumed}) / $__interval_s AS consumed,
  sum({C.stored}) / $__interval_s AS stored,
  sum({C.dead_lettered}) / $__interval_s AS dead_lettered
FROM {C}
WHERE $__timeFilter({C.flushed_at})
GROUP BY time
ORDER BY time"""
    return PanelSpec(
        "throughput", "Throughput", "timeseries", sql,
        ("time", "consumed", "stored", "dead_lettered"), unit="rps",
    )


def consumer_lag() -> PanelSpec:
    """Kafka lag per collector at flush time."""
    sql = f"""SELECT $__timeInterval({C.flushed_at}) AS time, {C.collector_id} AS collector,
  max({C.lag}) AS lag
FROM {C}
WHERE $__timeFilter({C.flushed_at})
GROUP BY time, collector
ORDER BY time"""
    return PanelSpec(
        "consumer_lag", "Consumer lag", "timeseries", sql, ("time", "collector", "lag"),
        series=("collector",), unit="short",
    )


def flush_latency() -> PanelSpec:
    """Flush latency quantiles."""
    sql = f"""SELECT $__timeInterval({C.flushed_at}) AS time,
  quantile(0.5)({C.flush_ms}) AS p50, quantile(0.99)({C.flush_ms}) AS p99
FROM {C}
WHERE $__timeFilter({C.flushed_at})
GROUP BY time
ORDER BY time"""
    return PanelSpec(
        "flush_latency", "Flush latency", "timeseries", sql, ("time", "p50", "p99"), unit="ms",
    )


def dead_letters_by_reason() -> PanelSpec:
    """Dead letters per interval, split by reason."""
    sql = counts_per_interval(DL, DL.received_at, DL.reason, "reason", "dead_letters")
    return PanelSpec(
        "dead_letters_by_reason", "Dead letters by reason", "timeseries", sql,
        ("time", "reason", "dead_letters"), series=("reason",),
    )


def late_events() -> PanelSpec:
    """Events that arrived after their window closed, and batch sizes."""
    sql = f"""SELECT $__timeInterval({C.flushed_at}) AS time, sum({C.late}) AS late,
  avg({C.batch_size}) AS batch_size
FROM {C}
WHERE $__timeFilter({C.flushed_at})
GROUP BY time
ORDER BY time"""
    return PanelSpec(
        "late_events", "Late events and batch size", "timeseries", sql,
        ("time", "late", "batch_size"),
    )


COLLECTOR = (throughput, consumer_lag, flush_latency, dead_letters_by_reason, late_events)
