"""The Overview and Alerts dashboards' panels and the annotations (alerts, retrain
requests, deployments).

Every panel keeps the selected models (:func:`~driftscope.dashboards.conventions.model_in`):
on these two dashboards the model variable is multi-valued with *All* (every model, and
dead letters no model could be read from), and ``driftscope report --model X`` shows X's.
"""

from __future__ import annotations

from dataclasses import dataclass

from driftscope.dashboards.conventions import (
    RESOLVED_STATE,
    by_monitor,
    drift_ratio,
    is_drift,
    latest_results,
    model_in,
    monitor_in,
)
from driftscope.dashboards.spec import PanelSpec
from driftscope.store import schema

A = schema.ALERTS
D = schema.DRIFT_RESULTS
DL = schema.DEAD_LETTERS
P = schema.WINDOW_PARTS
RQ = schema.RETRAIN_REQUESTS
MV = schema.MODEL_VERSIONS


@dataclass(frozen=True)
class AnnotationSpec:
    """An annotation query: rows of ``time``, ``text``, ``tags`` drawn on time panels."""

    name: str
    sql: str
    color: str
    columns: tuple[str, ...] = ("time", "text", "tags")


def drift_status() -> PanelSpec:
    """Per selected model (and monitor, where a model has several in the table): how
    many drift checks drifted in its latest window (each check's latest computed row,
    :func:`~driftscope.dashboards.conventions.latest_results`: after a configuration
    change and a backfill, the earlier configuration's rows do not count)."""
    m, mon = D.model_id, D.monitor
    selected = f"{is_drift()} AND {model_in(m)} AND {monitor_in()}"
    rows = latest_results(
        f"{selected} AND ({m}, {mon}, {D.window_start}) IN (\n"
        f"      SELECT {m}, {mon}, max({D.window_start}) FROM {D}\n"
        f"      WHERE $__timeFilter({D.window_start}) AND {selected}\n"
        f"      GROUP BY {m}, {mon})", counted=True)
    sql = f"""SELECT if(uniqExact({mon}) OVER (PARTITION BY {m}) > 1,
    concat({m}, ': ', {mon}), {m}) AS model,
  last_window, drifted_checks, checks, max_severity
FROM (
  SELECT {m}, {mon}, max({D.window_start}) AS last_window,
    countIf(counted) AS drifted_checks, count() AS checks,
    max({drift_ratio(counted_only=True)}) AS max_severity
  FROM {rows}
  GROUP BY {m}, {mon}
)
ORDER BY drifted_checks DESC, model"""
    return PanelSpec(
        "drift_status", "Drift status (latest window)", "table", sql,
        ("model", "last_window", "drifted_checks", "checks", "max_severity"), width=12,
        description="Per model (and monitor), its latest window in the range: the drift "
        "checks (feature × segment × detector) the monitor counted as drift — past their "
        "threshold and kept by the false-discovery control across the window's checks; a "
        "versus_rest segment's (a canary unlike the rest of its window) among them — "
        "of all its checks, and the worst statistic / threshold (as on the heatmap: at most "
        "1 for a check not counted, 10 for a column constant in the reference that "
        "moved). Whether that pages depends on the windows before (persistence; the "
        "Alerts dashboard).",
    )


def open_alerts() -> PanelSpec:
    """Alerts not resolved, of the selected models."""
    sql = f"""SELECT count() AS open_alerts
FROM {A} FINAL
WHERE {A.state} != '{RESOLVED_STATE}' AND {model_in(A.model_id)} AND {monitor_in(A.monitor)}"""
    return PanelSpec("open_alerts", "Open alerts", "stat", sql, ("open_alerts",), width=4)


def event_volume() -> PanelSpec:
    """Events per interval and model, by event time, from the collector's per-flush counts.

    ``window_parts`` is written for every logging mode (``raw``, ``sample``, ``profile``),
    so a model logged without raw events counts too: each window's events (late ones
    included) at the window's start, as the ``windows`` counts are summed.
    """
    # each model's missing windows filled with 0 up to the range's end (a stream that
    # stopped drew a line across the gap), at the interval or the longest window shown;
    # the points are that step apart too (a 2-minute interval over 5-minute windows put
    # a point every 2 minutes and the fill a 0 between them: a stream that never stopped
    # dropped to 0 every other point), a whole number of windows (each point sums as many)
    window = (f"greatest(ifNull((SELECT max({P.window_seconds}) FROM {P} "  # (0: no row)
              f"WHERE $__timeFilter({P.window_start}) AND {model_in(P.model_id)}), 1), 1)")
    step = f"toUInt32(ceil(greatest($__interval_s, {window}) / {window}) * {window})"
    sql = f"""SELECT time, model, events FROM (
  SELECT toStartOfInterval({P.window_start}, toIntervalSecond({step})) AS time,
    {P.model_id} AS model, sum({P.n}) AS events
  FROM {P}
  WHERE $__timeFilter({P.window_start}) AND {model_in(P.model_id)}
  GROUP BY time, model
  ORDER BY model, time WITH FILL TO $__toTime STEP toIntervalSecond({step}))
ORDER BY time, model"""
    return PanelSpec(
        "event_volume", "Event volume", "timeseries", sql, ("time", "model", "events"),
        series=("model",), width=8, description="Events stored per model, by event time: "
        "each collector window's count (every logging mode: raw, sample, profile; late "
        "events included) at the window's start. Each point sums a whole number of windows "
        "(of the longest window shown): one where the interval is shorter; 0 where a model "
        "had none.",
    )


def dead_letter_rate() -> PanelSpec:
    """Dead letters as a share of everything received, both counted when the collector
    stored them: dead letters by ``received_at``, events by the flush that stored them
    (``window_parts.created_at``, every logging mode) — a dead letter has no event time,
    and events may be sent long after their own timestamp."""
    sql = f"""SELECT time, sum(dl) / greatest(sum(dl) + sum(ev), 1) AS dead_letter_rate
FROM (
  SELECT $__timeInterval({P.created_at}) AS time, sum({P.n}) AS ev, toUInt64(0) AS dl
  FROM {P} WHERE $__timeFilter({P.created_at}) AND {model_in(P.model_id)} GROUP BY time
  UNION ALL
  SELECT $__timeInterval({DL.received_at}) AS time, toUInt64(0) AS ev, count() AS dl
  FROM {DL} WHERE $__timeFilter({DL.received_at}) AND {model_in(DL.model_id)} GROUP BY time
)
GROUP BY time
ORDER BY time"""
    return PanelSpec(
        "dead_letter_rate", "Dead-letter rate", "timeseries", sql, ("time", "dead_letter_rate"),
        unit="percentunit", width=12, description="Dead letters / (dead letters + stored "
        "events), both by the time the collector stored them (events of every logging "
        "mode, counted by the collector's flushes).",
    )


def alert_timeline() -> PanelSpec:
    """Every alert open at some time of the range, newest first: opened in it, or before
    it and not resolved until in it (one firing since last week was not listed under
    "last 24 hours", while Open alerts counted it)."""
    sql = f"""SELECT {A.window_start} AS time, {A.model_id} AS model, {A.monitor} AS monitor,
  {A.rule} AS rule, {A.state} AS state, {A.severity} AS severity, {A.summary} AS summary,
  {A.updated_at} AS updated
FROM {A} FINAL
WHERE {A.window_start} <= $__toTime
  AND ($__timeFilter({A.window_start}) OR {A.state} != '{RESOLVED_STATE}'
    OR {A.updated_at} >= $__fromTime)
  AND {model_in(A.model_id)} AND {monitor_in(A.monitor)}
ORDER BY time DESC"""
    return PanelSpec(
        "alert_timeline", "Alerts", "table", sql,
        ("time", "model", "monitor", "rule", "state", "severity", "summary", "updated"),
        width=24, description="The alerts open at some time of the range: opened in it, or "
        "before it and still open (or resolved within it). Time is the window that opened "
        "the alert, which may lie before the range; updated is when the alert engine last "
        "changed it.",
    )


def alerts_over_time() -> PanelSpec:
    """Alerts opened per interval (by the window that opened them), by rule (its monitor
    first when the alerts shown come from several)."""
    sql = f"""SELECT time, {by_monitor("r")} AS rule, alerts
FROM (
  SELECT $__timeInterval({A.window_start}) AS time, {A.monitor}, {A.rule} AS r,
    count() AS alerts
  FROM {A} FINAL
  WHERE $__timeFilter({A.window_start}) AND {model_in(A.model_id)} AND {monitor_in(A.monitor)}
  GROUP BY time, {A.monitor}, r
)
ORDER BY time, rule"""
    return PanelSpec(
        "alerts_over_time", "Alerts over time", "timeseries", sql, ("time", "rule", "alerts"),
        series=("rule",), width=24,
    )


def retrain_requests() -> PanelSpec:
    """Retrain requests: which windows and training range each asked for, and the model
    version it would replace (``evidence.model_version``, the version that served the
    window; empty when unknown: a model logged only as profiles, events without one)."""
    sql = f"""SELECT {RQ.created_at} AS time, {RQ.model_id} AS model,
  JSONExtractString({RQ.evidence}, 'model_version') AS model_version, {RQ.policy} AS policy,
  {RQ.window_start} AS window_start, {RQ.train_since} AS train_since,
  {RQ.train_until} AS train_until
FROM {RQ} FINAL
WHERE $__timeFilter({RQ.window_start}) AND {model_in(RQ.model_id)}
ORDER BY time DESC"""
    return PanelSpec(
        "retrain_requests", "Retrain requests", "table", sql,
        ("time", "model", "model_version", "policy", "window_start", "train_since",
         "train_until"), width=24,
        description="Each retrain request in the range (by the window that raised it): the "
        "model version it is about (the one that served most of that window's predictions; "
        "empty when the events carry none or the model is logged only as profiles), the "
        "policy, and the training range it asks for.",
    )


def alert_annotations() -> AnnotationSpec:
    """Alerts of the selected model, on the window that raised them."""
    sql = f"""SELECT {A.window_start} AS time, concat({A.rule}, ': ', {A.summary}) AS text,
  concat({A.monitor}, ',', {A.state}) AS tags
FROM {A} FINAL
WHERE {model_in(A.model_id)} AND {monitor_in(A.monitor)} AND $__timeFilter({A.window_start})
ORDER BY time"""
    return AnnotationSpec("Alerts", sql, "red")


def retrain_annotations() -> AnnotationSpec:
    """Retrain requests of the selected model."""
    sql = f"""SELECT {RQ.window_start} AS time, concat('retrain requested: ', {RQ.policy}) AS text,
  'retrain' AS tags
FROM {RQ} FINAL
WHERE {model_in(RQ.model_id)} AND $__timeFilter({RQ.window_start})
ORDER BY time"""
    return AnnotationSpec("Retrain requests", sql, "purple")


def deploy_annotations() -> AnnotationSpec:
    """Deploy markers: each version of the selected models at the first event it served
    (``model_versions``, written by the collector for every logging mode). The range
    filters a version's first event, not its rows: a version that began serving before
    the range is not drawn inside it."""
    sql = f"""SELECT time, concat(model, ': version ', version, ' deployed') AS text,
  concat('deploy,', model) AS tags
FROM (
  SELECT {MV.model_id} AS model, {MV.model_version} AS version, min({MV.first_seen}) AS time
  FROM {MV}
  WHERE {model_in(MV.model_id)}
  GROUP BY model, version
  HAVING $__timeFilter(time)
)
ORDER BY time, model, version"""
    return AnnotationSpec("Deployments", sql, "blue")


OVERVIEW = (open_alerts, event_volume, drift_status, dead_letter_rate)
ALERTS = (alerts_over_time, alert_timeline, retrain_requests)
ANNOTATIONS = (alert_annotations, retrain_annotations, deploy_annotations)
