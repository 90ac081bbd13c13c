"""The Model drift dashboard's panels: one function per panel.

A segment has its own threshold (thresholds are fitted on each segment's reference), so
the time panels draw one line per detector and segment, from one row each, as the ratio
``statistic / threshold``: above the dashed line at 1 is drift, whatever the detector's
scale. The raw statistic and threshold of the latest window are in the table.
"""

from __future__ import annotations

from driftscope.dashboards.conventions import (
    by_monitor,
    feature_drift,
    features_in,
    has_raw_events,
    model_is,
    monitor_in,
    multivariate_drift,
    segment_in,
    segment_label,
    series_name,
)
from driftscope.dashboards.spec import PanelSpec
from driftscope.store import schema

D = schema.DRIFT_RESULTS
E = schema.EVENTS
SMP = schema.SAMPLES
R = schema.REFERENCE_EVENTS
REFS = schema.REFERENCES
BINS = 20
NO_REFERENCE = ("No uploaded reference dataset for this model "
                "(driftscope reference upload), or no raw events or samples in range")


def _ratio() -> str:
    """One row's statistic / threshold (none without a threshold): drift above 1."""
    return f"if({D.threshold} > 0, {D.statistic} / {D.threshold}, NULL)"


def _lines(name: str, where: str) -> str:
    """Time, line name (its monitor first when there are several, :func:`by_monitor`) and
    statistic / threshold of the selected model's and monitors' rows matching ``where``."""
    return f"""SELECT time, series, max(r) AS ratio
FROM (
  SELECT {D.window_start} AS time, {by_monitor(name)} AS series, {_ratio()} AS r
  FROM {D} FINAL
  WHERE {model_is(D.model_id)} AND {monitor_in()} AND {where}
    AND $__timeFilter({D.window_start})
)
GROUP BY time, series
ORDER BY time, series"""


def drift_statistic() -> PanelSpec:
    """Per feature (repeated): each detector's statistic / threshold per segment."""
    sql = _lines(series_name(D.metric), f"{D.feature} = '${{feature}}' AND {segment_in()} "
                 f"AND {feature_drift()}")
    return PanelSpec(
        "drift_statistic", "Drift of ${feature}: statistic / threshold", "timeseries", sql,
        ("time", "series", "ratio"), series=("series",), repeat="feature", width=8,
        threshold_line=1.0, by_segment=True,
        description="Per closed window, each detector's statistic divided by its own "
        "threshold, one line per detector and segment (\"emd (all)\" is the whole "
        "population, drawn thicker): drift when a line is above the dashed line at 1. "
        "The latest raw values are in \"Latest verdict per feature\". With several "
        "monitors shown, each line's name starts with its monitor.",
    )


def drift_heatmap() -> PanelSpec:
    """Features × windows, coloured by statistic / threshold (above 1 means drifted)."""
    sql = f"""SELECT time, name AS feature, max(r) AS ratio
FROM (
  SELECT {D.window_start} AS time, {by_monitor(D.feature)} AS name,
    {D.statistic} / if({D.threshold} > 0, {D.threshold}, 1) AS r
  FROM {D} FINAL
  WHERE {model_is(D.model_id)} AND {monitor_in()} AND {features_in(D.feature)}
    AND {segment_in()} AND {feature_drift()} AND $__timeFilter({D.window_start})
)
GROUP BY time, name
ORDER BY time, name"""
    return PanelSpec(
        "drift_heatmap", "Drift heatmap: features × windows", "heatmap", sql,
        ("time", "feature", "ratio"), series=("feature",), width=24,
        description="Worst statistic / threshold per feature and window over the selected "
        "segments and detectors; above 1 is drift. With several monitors shown, one row "
        "per monitor and feature (\"monitor: feature\").",
    )


def drifted_features() -> PanelSpec:
    """The latest window's verdict per feature, segment and detector."""
    sql = f"""SELECT feature, segment, {by_monitor("detector")} AS metric,
  latest.1 AS statistic, latest.2 AS threshold, latest.3 AS drifted, last_window
FROM (
  SELECT {D.feature} AS feature, {segment_label()} AS segment, {D.metric} AS detector,
    {D.monitor},
    argMax(({D.statistic}, {D.threshold}, {D.drifted}), {D.window_start}) AS latest,
    max({D.window_start}) AS last_window
  FROM {D} FINAL
  WHERE {model_is(D.model_id)} AND {monitor_in()} AND {features_in(D.feature)}
    AND {segment_in()} AND {feature_drift()} AND $__timeFilter({D.window_start})
  GROUP BY feature, segment, detector, {D.monitor}
)
ORDER BY drifted DESC, statistic / if(threshold > 0, threshold, 1) DESC, feature, segment"""
    return PanelSpec(
        "drifted_features", "Latest verdict per feature", "table", sql,
        ("feature", "segment", "metric", "statistic", "threshold", "drifted", "last_window"),
        width=24, description="Each feature's latest window, per selected segment (all: the "
        "whole population) and detector (\"monitor: detector\" with several monitors "
        "shown); drifted rows first, then by statistic / threshold.",
    )


def _current(column: str, f: str, alias: str) -> str:
    """The current values (as ``alias``) of map ``column`` at key ``f``: the model's raw
    events in the range, or (a model with none: logged as samples, not raw) its stored
    sample rows; ``has_raw`` is :func:`has_raw_events`."""
    return "\n    UNION ALL\n".join(
        f"""    SELECT {column}[{f}] AS {alias}, 'current' AS src FROM {t}
    WHERE {model_is(t.model_id)} AND mapContains({column}, {f})
      AND ref_name != '' AND $__timeFilter({t.timestamp}){more}"""
        for t, more in ((E, ""), (SMP, " AND NOT has_raw")))


def reference_vs_current() -> PanelSpec:
    """Per feature (repeated): the uploaded reference and the current events on shared bins.

    The reference is the model's latest uploaded dataset (``driftscope reference
    upload``, the newest row of ``references``); nothing without one. Current: the raw
    events in the range, or for a model without them (logged as samples, not raw) the
    rows of its windows' samples — never both, so a model logged raw and sampled counts
    each event once; a model logged only as profiles has neither, and the panel is empty.
    Numbers fall in ``BINS`` equal bins over the reference's range (ends open); categories
    are their own bins. Shares are per source, so the two bar sets compare.
    """
    f = "'${feature}'"
    num_ref = f"{R.features_num}[{f}]"
    in_ref = f"{model_is(R.model_id)} AND {R.reference_name} = ref_name"
    sql = f"""WITH
  (SELECT argMax({REFS.name}, {REFS.created_at}) FROM {REFS}
     WHERE {model_is(REFS.model_id)} AND {REFS.kind} = 'dataset') AS ref_name,
  {has_raw_events()} AS has_raw,
  (SELECT (min(v), max(v)) FROM (SELECT {num_ref} AS v FROM {R}
     WHERE {in_ref} AND mapContains({R.features_num}, {f}))) AS rng,
  if(rng.2 > rng.1, (rng.2 - rng.1) / {BINS}, 1) AS width
SELECT bin,
  countIf(src = 'reference') / greatest(sum(countIf(src = 'reference')) OVER (), 1)
    AS reference,
  countIf(src = 'current') / greatest(sum(countIf(src = 'current')) OVER (), 1) AS current
FROM (
  SELECT rng.1 + width * least(greatest(floor((v - rng.1) / width), 0), {BINS - 1}) AS x,
    toString(round(x, 3)) AS bin, src
  FROM (
    SELECT {num_ref} AS v, 'reference' AS src FROM {R}
    WHERE {in_ref} AND mapContains({R.features_num}, {f})
    UNION ALL
{_current(E.features_num, f, "v")}
  )
  UNION ALL
  SELECT 0 AS x, c AS bin, src
  FROM (
    SELECT {R.features_cat}[{f}] AS c, 'reference' AS src FROM {R}
    WHERE {in_ref} AND mapContains({R.features_cat}, {f})
    UNION ALL
{_current(E.features_cat, f, "c")}
  )
)
GROUP BY bin
ORDER BY min(x), bin"""
    return PanelSpec(
        "reference_vs_current", "${feature}: uploaded reference vs current", "barchart", sql,
        ("bin", "reference", "current"), repeat="feature", width=8, x_field="bin",
        unit="percentunit", no_value=NO_REFERENCE,
        description="Share of events per bin: the model's latest uploaded reference "
        "dataset (driftscope reference upload) against all events in the selected time "
        "range (every segment) — its raw events, or for a model logged as samples without "
        "raw its stored sample rows (weighted towards the events that came first in each "
        "window, and towards small strata with sample_stratify_by). Numeric bins span the "
        "reference's "
        "range, ends open. Empty when no dataset was uploaded (a monitor comparing with "
        "earlier windows — previous, initial, fixed, seasonal — does not store which range "
        "it used), and for a model logged only as profiles (no event is kept).",
    )


def projection_drift() -> PanelSpec:
    """MMD on all features and drift of the projections: statistic / threshold."""
    sql = _lines(series_name(D.metric, D.feature), f"{multivariate_drift()} AND {segment_in()}")
    return PanelSpec(
        "projection_drift", "Projection and MMD drift: statistic / threshold", "timeseries",
        sql, ("time", "series", "ratio"), series=("series",), width=24, threshold_line=1.0,
        by_segment=True, description="Multivariate drift: MMD over all features, and drift "
        "measured on low-dimensional projections; each line one detector, target and "
        "segment (its monitor first with several monitors shown), drift above the dashed "
        "line at 1.",
    )


PANELS = (drift_heatmap, drifted_features, drift_statistic, reference_vs_current,
          projection_drift)
