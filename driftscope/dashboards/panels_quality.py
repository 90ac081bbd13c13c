"""The Data quality and Performance dashboards' panels."""

from __future__ import annotations

from driftscope.dashboards.conventions import (
    features_in,
    is_performance,
    is_quality,
    model_is,
    output_drift,
    segment_in,
)
from driftscope.dashboards.spec import PanelSpec
from driftscope.store import schema

D = schema.DRIFT_RESULTS
E = schema.EVENTS
F = schema.FEEDBACK
W = schema.WINDOWS
DL = schema.DEAD_LETTERS


def _series(where: str) -> str:
    """Statistic and threshold (none when the row has no threshold policy) per series."""
    return f"""SELECT {D.window_start} AS time,
  if({D.feature} IN ('', '*'), {D.metric}, concat({D.metric}, ' ', {D.feature})) AS series,
  max({D.statistic}) AS value,
  maxIfOrNull({D.threshold}, {D.policy} != 'none') AS threshold
FROM {D} FINAL
WHERE {model_is(D.model_id)} AND {where} AND {segment_in()}
  AND $__timeFilter({D.window_start})
GROUP BY time, series
ORDER BY time"""


def missing_rate() -> PanelSpec:
    """Share of events where each selected feature is missing, from raw events."""
    keys = (
        f"arrayDistinct(arrayConcat(mapKeys({E.features_num}), mapKeys({E.features_cat}), "
        f"{E.features_null}))"
    )
    sql = f"""SELECT $__timeInterval({E.timestamp}) AS time, f AS feature,
  countIf(has({E.features_null}, f)) / count() AS missing_rate
FROM {E}
ARRAY JOIN {keys} AS f
WHERE {model_is(E.model_id)} AND {features_in('f')} AND $__timeFilter({E.timestamp})
GROUP BY time, feature
ORDER BY time"""
    return PanelSpec(
        "missing_rate", "Missing values per feature", "timeseries", sql,
        ("time", "feature", "missing_rate"), series=("feature",), unit="percentunit",
    )


def quality_checks() -> PanelSpec:
    """The monitor's data-quality checks against their limits."""
    return PanelSpec(
        "quality_checks", "Data-quality checks vs limits", "timeseries",
        _series(is_quality()), ("time", "series", "value", "threshold"),
        series=("series",),
    )


def window_counts() -> PanelSpec:
    """Events and late events per closed window: record-count anomalies show here."""
    sql = f"""SELECT {W.window_start} AS time, sum({W.n_events}) AS events,
  sum({W.n_late}) AS late
FROM {W} FINAL
WHERE {model_is(W.model_id)} AND $__timeFilter({W.window_start})
GROUP BY time
ORDER BY time"""
    return PanelSpec(
        "window_counts", "Events per window", "timeseries", sql, ("time", "events", "late"),
    )


def dead_letter_reasons() -> PanelSpec:
    """Dead letters of the selected model by reason."""
    sql = f"""SELECT {DL.reason} AS reason, count() AS dead_letters,
  max({DL.received_at}) AS last_seen, any({DL.error}) AS example_error
FROM {DL}
WHERE ({model_is(DL.model_id)} OR {DL.model_id} = '') AND $__timeFilter({DL.received_at})
GROUP BY reason
ORDER BY dead_letters DESC"""
    return PanelSpec(
        "dead_letter_reasons", "Rejected events by reason", "table", sql,
        ("reason", "dead_letters", "last_seen", "example_error"),
    )


def performance() -> PanelSpec:
    """Metrics computed once labels arrived."""
    return PanelSpec(
        "performance", "Performance (labelled)", "timeseries",
        _series(is_performance()), ("time", "series", "value", "threshold"),
        series=("series",), description="Metrics from labels; empty until feedback arrives.",
    )


def performance_proxy() -> PanelSpec:
    """The label-free proxy, beside the labelled metrics."""
    return PanelSpec(
        "performance_proxy", "Label-free proxy: drift of the model's outputs", "timeseries",
        _series(output_drift()), ("time", "series", "value", "threshold"),
        series=("series",), description="Drift of the predictions and scores against the "
        "reference: available at once, before any label arrives.",
    )


def label_coverage() -> PanelSpec:
    """Share of events with a label (inline or from feedback)."""
    sql = f"""SELECT time, least(sum(labelled) / greatest(sum(n), 1), 1) AS label_coverage
FROM (
  SELECT $__timeInterval({E.timestamp}) AS time, count() AS n,
    countIf({E.label} IS NOT NULL) AS labelled
  FROM {E} WHERE {model_is(E.model_id)} AND $__timeFilter({E.timestamp}) GROUP BY time
  UNION ALL
  SELECT $__timeInterval({F.timestamp}) AS time, toUInt64(0) AS n, count() AS labelled
  FROM {F} WHERE {model_is(F.model_id)} AND $__timeFilter({F.timestamp}) GROUP BY time
)
GROUP BY time
ORDER BY time"""
    return PanelSpec(
        "label_coverage", "Label coverage", "timeseries", sql, ("time", "label_coverage"),
        unit="percentunit", width=24,
    )


QUALITY = (missing_rate, quality_checks, window_counts, dead_letter_reasons)
PERFORMANCE = (performance, performance_proxy, label_coverage)
