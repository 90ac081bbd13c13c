"""The Model drift dashboard's panels: one function per panel."""

from __future__ import annotations

from driftscope.dashboards.conventions import (
    feature_drift,
    features_in,
    model_is,
    multivariate_drift,
    segment_in,
)
from driftscope.dashboards.spec import PanelSpec
from driftscope.store import schema

D = schema.DRIFT_RESULTS
E = schema.EVENTS
R = schema.REFERENCE_EVENTS
BINS = 20


def drift_statistic() -> PanelSpec:
    """Per feature (repeated): each detector's statistic against its threshold over time."""
    sql = f"""SELECT {D.window_start} AS time, {D.metric} AS metric,
  max({D.statistic}) AS statistic, max({D.threshold}) AS threshold
FROM {D} FINAL
WHERE {model_is(D.model_id)} AND {D.feature} = '${{feature}}' AND {segment_in()}
  AND {feature_drift()} AND $__timeFilter({D.window_start})
GROUP BY time, metric
ORDER BY time"""
    return PanelSpec(
        "drift_statistic", "Drift of ${feature}: statistic vs threshold", "timeseries", sql,
        ("time", "metric", "statistic", "threshold"), series=("metric",), repeat="feature",
        width=8, description="Each detector's statistic per closed window; drift when the "
        "statistic line is above its threshold line.",
    )


def drift_heatmap() -> PanelSpec:
    """Features × windows, coloured by statistic / threshold (above 1 means drifted)."""
    sql = f"""SELECT {D.window_start} AS time, {D.feature} AS feature,
  max({D.statistic} / if({D.threshold} > 0, {D.threshold}, 1)) AS ratio
FROM {D} FINAL
WHERE {model_is(D.model_id)} AND {features_in(D.feature)} AND {segment_in()}
  AND {feature_drift()} AND $__timeFilter({D.window_start})
GROUP BY time, feature
ORDER BY time, feature"""
    return PanelSpec(
        "drift_heatmap", "Drift heatmap: features × windows", "heatmap", sql,
        ("time", "feature", "ratio"), series=("feature",), width=24,
        description="Worst statistic / threshold per feature and window; above 1 is drift.",
    )


def drifted_features() -> PanelSpec:
    """The latest window's verdict per feature and detector."""
    sql = f"""SELECT {D.feature} AS feature, {D.metric} AS metric,
  argMax({D.statistic}, {D.window_start}) AS statistic,
  argMax({D.threshold}, {D.window_start}) AS threshold,
  argMax({D.drifted}, {D.window_start}) AS drifted,
  max({D.window_start}) AS last_window
FROM {D} FINAL
WHERE {model_is(D.model_id)} AND {features_in(D.feature)} AND {segment_in()}
  AND {feature_drift()} AND $__timeFilter({D.window_start})
GROUP BY feature, metric
ORDER BY drifted DESC, statistic DESC"""
    return PanelSpec(
        "drifted_features", "Latest verdict per feature", "table", sql,
        ("feature", "metric", "statistic", "threshold", "drifted", "last_window"),
    )


def reference_vs_current() -> PanelSpec:
    """Per feature (repeated): reference and current distributions on shared bins.

    Numbers fall in ``BINS`` equal bins over the reference's range (ends open);
    categories are their own bins. Shares are per source, so the two bar sets compare.
    """
    f = "'${feature}'"
    num_ref = f"{R.features_num}[{f}]"
    sql = f"""WITH
  (SELECT (min(v), max(v)) FROM (SELECT {num_ref} AS v FROM {R}
     WHERE {model_is(R.model_id)} AND mapContains({R.features_num}, {f}))) AS rng,
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
    WHERE {model_is(R.model_id)} AND mapContains({R.features_num}, {f})
    UNION ALL
    SELECT {E.features_num}[{f}] AS v, 'current' AS src FROM {E}
    WHERE {model_is(E.model_id)} AND mapContains({E.features_num}, {f})
      AND $__timeFilter({E.timestamp})
  )
  UNION ALL
  SELECT 0 AS x, c AS bin, src
  FROM (
    SELECT {R.features_cat}[{f}] AS c, 'reference' AS src FROM {R}
    WHERE {model_is(R.model_id)} AND mapContains({R.features_cat}, {f})
    UNION ALL
    SELECT {E.features_cat}[{f}] AS c, 'current' AS src FROM {E}
    WHERE {model_is(E.model_id)} AND mapContains({E.features_cat}, {f})
      AND $__timeFilter({E.timestamp})
  )
)
GROUP BY bin
ORDER BY min(x), bin"""
    return PanelSpec(
        "reference_vs_current", "${feature}: reference vs current", "barchart", sql,
        ("bin", "reference", "current"), repeat="feature", width=8, x_field="bin",
        unit="percentunit", description="Share of events per bin in the reference and in "
        "the selected time range; numeric bins span the reference's range, ends open.",
    )


def projection_drift() -> PanelSpec:
    """MMD on all features and drift of the projections, against thresholds."""
    sql = f"""SELECT {D.window_start} AS time,
  concat({D.metric}, ' ', {D.feature}) AS series,
  max({D.statistic}) AS statistic, max({D.threshold}) AS threshold
FROM {D} FINAL
WHERE {model_is(D.model_id)} AND {multivariate_drift()} AND {segment_in()}
  AND $__timeFilter({D.window_start})
GROUP BY time, series
ORDER BY time"""
    return PanelSpec(
        "projection_drift", "Projection and MMD drift", "timeseries", sql,
        ("time", "series", "statistic", "threshold"), series=("series",), width=24,
        description="Multivariate drift: MMD over all features, and drift measured on "
        "low-dimensional projections.",
    )


PANELS = (drift_heatmap, drift_statistic, reference_vs_current, drifted_features,
          projection_drift)
