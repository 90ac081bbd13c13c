"""The Data quality and Performance dashboards' panels.

Checks, labelled metrics and the proxy are drawn per segment, each line's value beside
its own threshold (dashed) from the same row: a segment's metric is never shown against
another segment's limit, nor the best segment's value as the model's.
"""

from __future__ import annotations

from driftscope.dashboards.conventions import (
    FEATURE_VAR,
    by_monitor,
    feature_drift,
    features_in,
    is_performance,
    is_quality,
    latest_results,
    model_is,
    monitor_in,
    output_drift,
    segment_in,
    series_name,
    without_raw_events,
)
from driftscope.dashboards.spec import PanelSpec
from driftscope.store import schema
from driftscope.store.labels import DEFAULT_SKEW

D = schema.DRIFT_RESULTS
E = schema.EVENTS
F = schema.FEEDBACK
W = schema.WINDOWS
P = schema.WINDOW_PARTS
DL = schema.DEAD_LETTERS
_SKEW_S = int(DEFAULT_SKEW.total_seconds())
NO_RAW_EVENTS = ("No raw events of this model in range: label coverage needs them "
                 "(logging: raw); a model logged only as samples or profiles has none")


def _series(where: str, ruled: bool = False) -> str:
    """Value and threshold (none when the row has no threshold policy) of one row per
    window and series (metric, feature, segment; its monitor first when the rows hold
    several, :func:`by_monitor`): the latest computed (:func:`latest_results`). ``ruled``
    (performance): a rule's bound, where a rule holds the row to one, in every window."""
    name = f"if({D.feature} IN ('', '*'), {D.metric}, concat({D.metric}, ' ', {D.feature}))"
    bound = (f"if(JSONHas({D.details}, 'rule_bound'), "
             f"JSONExtractFloat({D.details}, 'rule_bound'), NULL) AS rule_bound",)
    rows = latest_results(f"{model_is(D.model_id)} AND {monitor_in()} AND {where}\n"
                          f"      AND {segment_in()} AND $__timeFilter({D.window_start})",
                          extra=bound if ruled else ())
    limit = f"if({D.policy} != 'none', {D.threshold}, NULL)"
    if ruled:  # (the bound of the rule that fired, where one did: there may be two)
        limit = f"if(startsWith({D.policy}, 'rule'), {D.threshold}, ifNull(rule_bound, {limit}))"
    return f"""SELECT {D.window_start} AS time, {by_monitor(series_name(name))} AS series,
  {D.statistic} AS value, {limit} AS threshold
FROM {rows}
ORDER BY time, series"""


def missing_rate() -> PanelSpec:
    """Share of events where each selected feature is missing, for every logging mode.

    Raw events: every event of the model in the interval counts, and a feature is missing
    in an event that has it null or leaves it out, as the monitor reads events
    (:mod:`driftscope.monitor.frame`) and as profiles count it; counted for the selected
    features (the feature variable: those the model's monitor judged). Windows without
    raw events (a model logged only as samples or profiles, or whose raw logging stopped
    in the range; decided per window, :func:`without_raw_events`): the monitor's
    ``missing_rate`` check of each processed window, whole population (segment ``*``),
    weighing the events the check read (``n_cur``). An interval holding both kinds of
    window weighs each by the events counted (raw) or read (check).
    """
    e_missing = (f"has({E.features_null}, f) OR NOT (mapContains({E.features_num}, f) "
                 f"OR mapContains({E.features_cat}, f))")
    checks = latest_results(
        f"{model_is(D.model_id)} AND {monitor_in()} AND {is_quality()}\n"
        f"      AND {D.metric} = 'missing_rate' AND {D.segment} IN ('', '*')\n"
        f"      AND {features_in(D.feature)} AND $__timeFilter({D.window_start})",
        by=(D.window_start, D.feature))  # the window's figure, whichever monitor computed it
    checked = without_raw_events(f"SELECT * FROM {checks}").replace("\n", "\n    ")
    sql = f"""SELECT time, feature, sum(missing) / greatest(sum(n), 1) AS missing_rate
FROM (
  SELECT $__timeInterval({E.timestamp}) AS time, f AS feature,
    toFloat64(countIf({e_missing})) AS missing, toFloat64(count()) AS n
  FROM {E}
  ARRAY JOIN arrayFilter(k -> k != '', [${{{FEATURE_VAR}:singlequote}}]) AS f
  WHERE {model_is(E.model_id)} AND $__timeFilter({E.timestamp})
  GROUP BY time, feature
  UNION ALL
  SELECT $__timeInterval({D.window_start}) AS time, {D.feature} AS feature,
    {D.statistic} * {D.n_cur} AS missing, toFloat64({D.n_cur}) AS n
  FROM (
    {checked}
  )
)
GROUP BY time, feature
ORDER BY time, feature"""
    return PanelSpec(
        "missing_rate", "Missing values per feature", "timeseries", sql,
        ("time", "feature", "missing_rate"), series=("feature",), unit="percentunit",
        description="Share of events with the feature missing (null or left out of the "
        "event). Where the model has raw events: counted from all of them, per interval. "
        "Windows without raw events (a model logged only as samples or profiles): the "
        "monitor's missing-rate check of each window it processed (whole population; from "
        "the window's sample, or exact from its profile), nothing before the monitor ran "
        "or with its quality checks off.",
    )


def quality_checks() -> PanelSpec:
    """The monitor's data-quality checks against their limits: those of the selected
    features (the feature variable, as the other panels keep it), and those of every
    column the variable does not list: the model-wide ones (volume, schema violations),
    segment values (``segment:KEY=VALUE``), outputs (``output:KEY``) and features never
    scored for drift (a type mismatch)."""
    offered = (f"SELECT DISTINCT {D.feature} FROM {D} WHERE {model_is(D.model_id)} "
               f"AND {monitor_in()} AND {feature_drift()}")  # (the feature variable's list)
    kept = (f"({features_in(D.feature)} OR {D.feature} NOT IN ({offered}))")
    return PanelSpec(
        "quality_checks", "Data-quality checks vs limits", "timeseries",
        _series(f"{is_quality()} AND {kept}"), ("time", "series", "value", "threshold"),
        series=("series",), by_segment=True, description="Each check of the selected "
        "features per segment (all: the whole population, drawn thicker), its limit "
        "dashed; whatever the features selected, the checks of what the feature list does "
        "not hold: model-wide (volume, schema violations), segment values "
        "(segment:KEY=VALUE), outputs (output:KEY), features never scored for drift.",
    )


def window_counts() -> PanelSpec:
    """Events and late events per window: record-count anomalies show here, and a stream
    that stopped shows as 0 (not a line drawn across the gap) up to the range's end.

    From the collector's per-flush counts (``window_parts``, which ``windows`` sums when
    it closes a window): the window open now, and one the collector never closed (the
    stream stopped, the monitor closed it), count too. Windows without events are filled
    in at the model's window size (its largest, when it changed)."""
    step = (f"greatest(1, ifNull((SELECT max({P.window_seconds}) FROM {P} WHERE "
            f"{model_is(P.model_id)} AND $__timeFilter({P.window_start})), 1))")
    sql = f"""SELECT {P.window_start} AS time, sum({P.n}) AS events, sum({P.n_late}) AS late
FROM {P}
WHERE {model_is(P.model_id)} AND $__timeFilter({P.window_start})
GROUP BY time
ORDER BY time WITH FILL TO toDateTime64($__toTime, 3) STEP toIntervalSecond({step})"""
    return PanelSpec(
        "window_counts", "Events per window", "timeseries", sql, ("time", "events", "late"),
        description="Events stored per window of the model (late ones included, and "
        "counted apart), the window open now too; 0 for a window without events.",
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
        _series(is_performance(), ruled=True), ("time", "series", "value", "threshold"),
        series=("series",), by_segment=True, description="Metrics from labels per segment "
        "(all: the whole population, drawn thicker), each with its limit dashed: a rule's "
        "bound (`rules`) where one holds the metric, in every window, else its band's "
        "once there is history; empty until feedback arrives.",
    )


def performance_proxy() -> PanelSpec:
    """The label-free proxy, beside the labelled metrics."""
    return PanelSpec(
        "performance_proxy", "Label-free proxy: drift of the model's outputs", "timeseries",
        _series(output_drift()), ("time", "series", "value", "threshold"),
        series=("series",), by_segment=True, description="Drift of the predictions and "
        "scores against the reference per segment (all: the whole population; \"... vs "
        "rest\", a versus_rest segment such as a canary: against the rest of its window), "
        "threshold dashed: available at once, before any label arrives.",
    )


def label_coverage() -> PanelSpec:
    """Share of events with a label (inline, or feedback on that event), by event time.

    Feedback is joined to the event it labels on ``event_id`` (one row per event however
    many labels it got, as :func:`driftscope.monitor.frame.read_events` reads them), so a
    label counts in the event's interval, not when it arrived; feedback given more than
    the default ``collector.feedback_skew`` before the range does not count (nor is it
    joined), and the scan of ``feedback`` (ordered by time) starts there. Raw events only:
    a model logged only as samples or profiles shows :data:`NO_RAW_EVENTS`.
    """
    in_range = f"{model_is(E.model_id)} AND $__timeFilter({E.timestamp})"
    sql = f"""SELECT $__timeInterval(e.{E.timestamp}) AS time,
  countIf(e.{E.label} IS NOT NULL OR f.n > 0) / count() AS label_coverage
FROM {E} AS e
LEFT JOIN (
  SELECT {F.event_id} AS event_id, count() AS n FROM {F}
  WHERE {model_is(F.model_id)}
    AND {F.timestamp} >= $__fromTime - INTERVAL {_SKEW_S} SECOND
    AND {F.event_id} IN (SELECT {E.event_id} FROM {E} WHERE {in_range})
  GROUP BY {F.event_id}
) AS f ON e.{E.event_id} = f.event_id
WHERE {model_is(f"e.{E.model_id}")} AND $__timeFilter(e.{E.timestamp})
GROUP BY time
ORDER BY time"""
    return PanelSpec(
        "label_coverage", "Label coverage", "timeseries", sql, ("time", "label_coverage"),
        unit="percentunit", width=24, no_value=NO_RAW_EVENTS,
        description="Share of the events of each interval that have a label, sent with "
        "the prediction or as feedback later (counted at the event's time, whenever the "
        "feedback arrived). Needs raw events (logging: raw): empty for a model logged "
        "only as samples or profiles.",
    )


def version_traffic() -> PanelSpec:
    """Each model version's share of the events of each interval, by event time (late
    ones included): a rollout's progress, beside the per-version performance that
    ``segments: [model_version]`` draws on the panels above. Raw events only, as
    :func:`label_coverage` (a sample holds k events a window, whatever the traffic)."""
    sql = f"""SELECT time, concat('version ', if(version = '', '(none)', version)) AS series,
  n / sum(n) OVER (PARTITION BY time) AS share
FROM (
  SELECT $__timeInterval({E.timestamp}) AS time, {E.model_version} AS version, count() AS n
  FROM {E}
  WHERE {model_is(E.model_id)} AND $__timeFilter({E.timestamp})
  GROUP BY time, version
)
ORDER BY time, series"""
    return PanelSpec(
        "version_traffic", "Traffic by model version", "timeseries", sql,
        ("time", "series", "share"), series=("series",), unit="percentunit", width=24,
        no_value=NO_RAW_EVENTS.replace("label coverage", "version traffic"),
        description="Each model version's share of the events of each interval (by event "
        "time; \"(none)\": events that name no version): a canary's rollout as it goes. "
        "With segments: [model_version] on a monitor, the panels above draw each version's "
        "metrics beside the others' (segment model_version=…). Needs raw events (logging: "
        "raw).",
    )


QUALITY = (missing_rate, quality_checks, window_counts, dead_letter_reasons)
PERFORMANCE = (performance, performance_proxy, label_coverage, version_traffic)
