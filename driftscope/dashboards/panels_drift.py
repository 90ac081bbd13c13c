"""The Model drift dashboard's panels: one function per panel.

A segment has its own threshold (thresholds are fitted on each segment's reference), so
the time panels draw one line per detector and segment, from one row each, as the ratio
``statistic / threshold``: above the dashed line at 1 is drift, whatever the detector's
scale. The raw statistic and threshold of the latest window are in the table.
"""

from __future__ import annotations

from driftscope.dashboards.conventions import (
    FEATURE_VAR,
    by_monitor,
    drift_ratio,
    feature_drift,
    features_in,
    latest_results,
    model_is,
    monitor_in,
    multivariate_drift,
    segment_in,
    segment_shown,
    series_name,
    without_raw_events,
)
from driftscope.dashboards.spec import PanelSpec
from driftscope.store import schema

D = schema.DRIFT_RESULTS
E = schema.EVENTS
SMP = schema.SAMPLES
R = schema.REFERENCE_EVENTS
REFS = schema.REFERENCES
BINS = 20
HEAT_RANGE = (0.0, 2.0)
"""The heatmap's colour scale: statistic / threshold 0 to 2, the threshold (1) mid-scale
(as the report's heatmap, :func:`driftscope.dashboards.svg.heatmap`)."""
NO_REFERENCE = ("No uploaded reference dataset for this model "
                "(driftscope reference upload), or no raw events or samples in range")


def _lines(name: str, where: str) -> str:
    """Time, line name (its monitor first when there are several, :func:`by_monitor`) and
    statistic / threshold of the selected model's and monitors' rows matching ``where``
    (the latest computed of each, :func:`latest_results`)."""
    rows = latest_results(f"{model_is(D.model_id)} AND {monitor_in()} AND {where}\n"
                          f"      AND $__timeFilter({D.window_start})")
    return f"""SELECT time, series, max(r) AS ratio
FROM (
  SELECT {D.window_start} AS time, {by_monitor(name)} AS series, {drift_ratio()} AS r
  FROM {rows}
)
GROUP BY time, series
ORDER BY time, series"""


def drift_statistic() -> PanelSpec:
    """Per feature (repeated): each detector's statistic / threshold per segment."""
    sql = _lines(series_name(D.metric), f"{D.feature} = ${{feature:singlequote}} "
                 f"AND {segment_in()} AND {feature_drift()}")
    return PanelSpec(
        "drift_statistic", "Drift of ${feature}: statistic / threshold", "timeseries", sql,
        ("time", "series", "ratio"), series=("series",), repeat="feature", width=8,
        threshold_line=1.0, by_segment=True,
        description="Per closed window, each detector's statistic divided by its own "
        "threshold, one line per detector and segment (\"emd (all)\" is the whole "
        "population, drawn thicker): drift when a line is above the dashed line at 1. "
        "A segment named \"... vs rest\" (versus_rest: a canary) is judged against the "
        "rest of its own window, not the reference: above 1, it differs from the other "
        "versions' traffic. The latest raw values are in \"Latest verdict per feature\". "
        "With several monitors shown, each line's name starts with its monitor.",
    )


def drift_heatmap() -> PanelSpec:
    """Features × windows, coloured by statistic / threshold, above 1 only where the
    monitor counted the test as drift (:func:`drift_ratio` with ``counted_only``)."""
    rows = latest_results(
        f"{model_is(D.model_id)} AND {monitor_in()} AND {features_in(D.feature)}\n"
        f"      AND {segment_in()} AND {feature_drift()} AND $__timeFilter({D.window_start})",
        counted=True)
    sql = f"""SELECT time, name AS feature, max(r) AS ratio
FROM (
  SELECT {D.window_start} AS time, {by_monitor(D.feature)} AS name,
    {drift_ratio(counted_only=True)} AS r
  FROM {rows}
)
GROUP BY time, name
ORDER BY time, name"""
    return PanelSpec(
        "drift_heatmap", "Drift heatmap: features × windows", "heatmap", sql,
        ("time", "feature", "ratio"), series=("feature",), width=24,
        color_range=HEAT_RANGE,
        description="Worst statistic / threshold per feature and window over the selected "
        "segments and detectors; above 1 is drift as the monitor counted it: a test past "
        "its own threshold that the false-discovery control across the window's tests (or "
        "min_effect) did not keep — what chance gives among many tests — is drawn at 1. "
        "A column constant in the reference that moved (threshold 0) is drawn at 10. The "
        "colours run from 0 to 2 whatever the range holds: 1, the threshold, is mid-scale, "
        "2 and above the darkest. A versus_rest segment (a canary) counts with its "
        "difference from the rest of its window. With several monitors shown, one row per "
        "monitor and feature (\"monitor: feature\").",
    )


def drifted_features() -> PanelSpec:
    """The verdict per feature, segment and detector in each monitor's latest window of
    the range (its latest computed row: :func:`latest_results`): a segment not scored
    there (too few events now) is not listed with an older window's verdict, which sorted
    first as drifted beside the current rows. ``drifted``: counted by the monitor
    (:func:`counted_as_drift`), not the test's own verdict (a test over its threshold that
    the false-discovery control or ``min_effect`` did not keep read drifted beside an
    alert that did not name it)."""
    selected = (f"{model_is(D.model_id)} AND {monitor_in()} AND {features_in(D.feature)}\n"
                f"      AND {segment_in()} AND {feature_drift()} "
                f"AND $__timeFilter({D.window_start})")
    rows = latest_results(
        f"{selected}\n      AND ({D.monitor}, {D.window_start}) IN (SELECT {D.monitor}, "
        f"max({D.window_start}) FROM {D}\n        WHERE {selected} GROUP BY {D.monitor})",
        counted=True)
    sql = f"""SELECT feature, segment, {by_monitor("detector")} AS metric,
  latest.1 AS statistic, latest.2 AS threshold, latest.3 AS drifted, last_window
FROM (
  SELECT {D.feature} AS feature, {segment_shown()} AS segment, {D.metric} AS detector,
    {D.monitor},
    argMax(({D.statistic}, {D.threshold}, toUInt8(counted)), {D.window_start}) AS latest,
    max({D.window_start}) AS last_window
  FROM {rows}
  GROUP BY feature, segment, detector, {D.monitor}
)
ORDER BY drifted DESC, statistic / if(threshold > 0, threshold, 1) DESC, feature, segment"""
    return PanelSpec(
        "drifted_features", "Latest verdict per feature", "table", sql,
        ("feature", "segment", "metric", "statistic", "threshold", "drifted", "last_window"),
        width=24, description="The latest window of the range, per feature, selected "
        "segment (all: the whole population; \"... vs rest\": judged against the rest "
        "of its window, not the reference) and detector (\"monitor: detector\" with "
        "several monitors shown); drifted rows first, then by statistic / threshold. "
        "drifted is 1 where the monitor counted the test as drift of the window (as the "
        "alert, the heatmap and the Overview do): a statistic over its threshold with "
        "drifted 0 is one the false-discovery control across the window's tests, or "
        "min_effect, did not keep. A segment with too few events in that window is not "
        "listed.",
    )


def _current(column: str, f: str, alias: str) -> str:
    """The current values (as ``alias``) of map ``column`` at key ``f``: the model's raw
    events in the range, and the stored sample rows of its windows without raw events
    (logged as samples, not raw; decided per window, :func:`without_raw_events`)."""
    sampled = f"""SELECT {SMP.model_id}, {SMP.window_start},
        {SMP.window_start} + toIntervalSecond({SMP.window_seconds}) AS window_end,
        {column}[{f}] AS {alias} FROM {SMP}
      WHERE {model_is(SMP.model_id)} AND mapContains({column}, {f})
        AND ref_name != '' AND $__timeFilter({SMP.timestamp})"""
    fallback = without_raw_events(sampled).replace("\n", "\n      ")
    return f"""    SELECT {column}[{f}] AS {alias}, 'current' AS src FROM {E}
    WHERE {model_is(E.model_id)} AND mapContains({column}, {f})
      AND ref_name != '' AND $__timeFilter({E.timestamp})
    UNION ALL
    SELECT {alias}, 'current' AS src FROM (
      {fallback}
    )"""


def reference_vs_current() -> PanelSpec:
    """Per feature (repeated): the uploaded reference and the current events on shared bins.

    The reference is the model's latest uploaded dataset (``driftscope reference
    upload``, the newest row of ``references``); nothing without one. Current: the raw
    events in the range, and for each window without them (a model logged as samples, not
    raw, or whose raw logging stopped in the range) the rows of that window's sample — never
    both for one window, so a model logged raw and sampled counts each event once; a model
    logged only as profiles has neither, and the panel is empty.
    Numbers fall in ``BINS`` equal bins over the reference's range (ends open), counted by
    bin and labelled with the bin's start to the digits the bin width needs (a narrow
    range keeps its 20 bins); categories are their own bins. Shares are per source, so the
    two bar sets compare. Nothing without a current event (before, the reference's bars
    beside a current of 0 % everywhere: a total change, to the eye).
    """
    f = f"${{{FEATURE_VAR}:singlequote}}"
    num_ref = f"{R.features_num}[{f}]"
    in_ref = f"{model_is(R.model_id)} AND {R.reference_name} = ref_name"
    sql = f"""WITH
  (SELECT argMax({REFS.name}, {REFS.created_at}) FROM {REFS}
     WHERE {model_is(REFS.model_id)} AND {REFS.kind} = 'dataset') AS ref_name,
  (SELECT (min(v), max(v)) FROM (SELECT {num_ref} AS v FROM {R}
     WHERE {in_ref} AND mapContains({R.features_num}, {f}))) AS rng,
  if(rng.2 > rng.1, (rng.2 - rng.1) / {BINS}, 1) AS width,
  greatest(3, 2 - toInt32(floor(log10(width)))) AS digits
SELECT bin, reference, current FROM (
SELECT idx, label AS bin,
  countIf(src = 'reference') / greatest(sum(countIf(src = 'reference')) OVER (), 1)
    AS reference,
  sum(countIf(src = 'current')) OVER () AS n_current,
  countIf(src = 'current') / greatest(n_current, 1) AS current
FROM (
  SELECT toInt64(least(greatest(floor((v - rng.1) / width), 0), {BINS - 1})) AS idx,
    toString(round(rng.1 + width * idx, digits)) AS label, src
  FROM (
    SELECT {num_ref} AS v, 'reference' AS src FROM {R}
    WHERE {in_ref} AND mapContains({R.features_num}, {f})
    UNION ALL
{_current(E.features_num, f, "v")}
  )
  UNION ALL
  SELECT toInt64(-1) AS idx, c AS label, src
  FROM (
    SELECT {R.features_cat}[{f}] AS c, 'reference' AS src FROM {R}
    WHERE {in_ref} AND mapContains({R.features_cat}, {f})
    UNION ALL
{_current(E.features_cat, f, "c")}
  )
)
GROUP BY idx, label
)
WHERE n_current > 0
ORDER BY idx, bin"""
    return PanelSpec(
        "reference_vs_current", "${feature}: uploaded reference vs current", "barchart", sql,
        ("bin", "reference", "current"), repeat="feature", width=8, x_field="bin",
        unit="percentunit", no_value=NO_REFERENCE,
        description="Share of events per bin: the model's latest uploaded reference "
        "dataset (driftscope reference upload) against all events in the selected time "
        "range (every segment) — its raw events, and for a window without raw events (a "
        "model logged as samples, not raw) that window's stored sample rows (weighted "
        "towards the events that came first in each window, and towards small strata with "
        "sample_stratify_by). Numeric bins span the reference's "
        "range, ends open. Empty when no dataset was uploaded (a monitor comparing with "
        "earlier windows — previous, initial, fixed, seasonal — does not store which range "
        "it used), for a model logged only as profiles (no event is kept), and where the "
        "range holds no event of the feature.",
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
