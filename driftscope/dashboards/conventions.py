"""How the monitor's ``drift_results`` rows are told apart, and shared SQL fragments.

As ``driftscope/monitor/evaluate.py`` writes them (``monitor`` is the configured monitor's
name, so kinds are told apart by the other columns):

* data quality: ``fingerprint = 'quality'``; ``feature`` is the column or ``*``;
  ``metric`` is ``missing_rate``, ``out_of_range``, ``new_categories``, ``volume`` …;
* performance (from labels): ``fingerprint = 'performance'``, ``feature = '*'``;
  ``metric`` is ``accuracy``, ``f1``, ``mae`` …; ``policy = 'none'`` means no threshold;
* drift, every other row: ``metric`` is the detector; ``feature`` is a feature, a model
  output ``output:<name>`` (the label-free performance proxy), a projection
  ``projection:<name>[.<i>]``, or ``multivariate`` (all numeric features at once, e.g. MMD).

``monitor`` tells apart the monitors of one model (e.g. one against the training set, one
against the previous windows): the panels keep the selected monitors (:func:`monitor_in`)
and, when their rows hold more than one, start each line's name with its monitor
(:func:`by_monitor`).

A window's result can have several rows: the table's key holds the fingerprint, which a
configuration change (and ``driftscope backfill``) changes; the panels read the latest
computed row of each (:func:`latest_results`).

``segment`` is ``*`` for the whole population (shown as ``all``) or ``key=value``. Every
segment has its own threshold, so a line is drawn from one row per segment (its name ends
with the segment in parentheses, :func:`series_name`); never a statistic of one segment
against the threshold of another.
Retrain requests are rows of ``retrain_requests``. Table and column names come from
:mod:`driftscope.store.schema` only.
"""

from __future__ import annotations

from collections.abc import Sequence

from driftscope.store import schema
from driftscope.types import UNBOUNDED_SEVERITY

D = schema.DRIFT_RESULTS
QUALITY_FP = "quality"
PERFORMANCE_FP = "performance"
OUTPUT_PREFIX = "output:"
PROJECTION_PREFIX = "projection:"
MULTIVARIATE = "multivariate"
RESOLVED_STATE = "resolved"
ALL_SEGMENT = "all"

MODEL_VAR = "model"
FEATURE_VAR = "feature"
SEGMENT_VAR = "segment"
MONITOR_VAR = "monitor"
ALL_MODELS = "'*'"
"""The model variable's custom *All* value where it is multi-valued (Overview, Alerts):
Grafana inserts a custom all value as it is, so ``${model:singlequote}`` becomes ``'*'``."""
ALL_MONITORS = "'*'"
"""The monitor variable's custom *All* value: every monitor of the model, listed or not."""


def counts_per_interval(
    table: object, time_col: str, by_col: str, by: str, count: str, *, final: bool = False,
    where: str = "",
) -> str:
    """``count()`` per ``$__timeInterval`` of ``time_col`` and per ``by`` (one series each);
    ``where``: a further condition."""
    more = f" AND {where}" if where else ""
    return f"""SELECT $__timeInterval({time_col}) AS time, {by_col} AS {by},
  count() AS {count}
FROM {table}{" FINAL" if final else ""}
WHERE $__timeFilter({time_col}){more}
GROUP BY time, {by}
ORDER BY time"""


def model_is(column: str) -> str:
    """``column = ${model:singlequote}``: Grafana quotes the name (``'churn'``) and escapes
    a quote in it, where a raw ``'${model}'`` would end the string at the quote."""
    return f"{column} = ${{{MODEL_VAR}:singlequote}}"


def without_raw_events(rows: str) -> str:
    """SQL of the rows of query ``rows`` whose window holds no raw event of the selected
    model in the time range: the fallback on samples or the monitor's rows, decided per
    window.

    ``rows`` has the columns ``model_id``, ``window_start`` and ``window_end`` (its window).
    Only ``logging: [raw, …]`` writes ``events``; a model logged only as samples or
    profiles has none, and panels fall back on what it has (``samples``, the monitor's
    rows). Deciding window by window, a model whose logging changed inside the range (raw,
    then samples only; or raw events expired before its samples) is read from its events
    where it has some and from the fallback elsewhere, and a model logged raw and sampled
    is read from its events alone (each event counts once). The events are read to the
    second (an ASOF join finds, per window, the first second at or after its start that
    holds a raw event): a window starts on a whole second.
    """
    e = schema.EVENTS
    return f"""SELECT w.* FROM ({rows}) AS w
ASOF LEFT JOIN (
  SELECT DISTINCT {e.model_id} AS model_id, toStartOfSecond({e.timestamp}) AS raw_at
  FROM {e} WHERE {model_is(e.model_id)} AND $__timeFilter({e.timestamp})
) AS r ON w.{D.model_id} = r.model_id AND w.{D.window_start} <= r.raw_at
WHERE NOT ifNull(r.raw_at >= w.{D.window_start} AND r.raw_at < w.{D.window_end}, 0)"""


RESULT_KEY = (D.model_id, D.monitor, D.window_start, D.segment, D.feature, D.metric)
"""What one ``drift_results`` row is a result of. The table's key also holds the
fingerprint (detector, parameters, threshold policy, reference), which changes with the
configuration: after a change and ``driftscope backfill`` a window has the old rows beside
the new ones, and only the latest computed is the monitor's current verdict."""


def latest_results(where: str, by: Sequence[str] = RESULT_KEY, counted: bool = False,
                   extra: Sequence[str] = ()) -> str:
    """SQL of a subquery (in parentheses) of the ``drift_results`` rows matching ``where``,
    only the latest computed per ``by`` (:data:`RESULT_KEY`: the results of an earlier
    configuration are left out). Every column but ``details``, and ``versus``: what a
    segment's drift was judged against, ``rest`` for a ``versus_rest`` segment (the rest of
    its window), else empty (:func:`segment_shown`); with ``counted``, a column ``counted``
    too (:func:`counted_as_drift`); ``extra``: more columns (``expr AS name``)."""
    cols = ", ".join([*(c for c in D.columns if c != D.details),
                      f"if({D.segment} IN ('', '*'), '', "  # (all events': never)
                      f"JSONExtractString({D.details}, 'versus')) AS versus",
                      *([f"{counted_as_drift()} AS counted"] if counted else []), *extra])
    return f"""(
    SELECT {cols} FROM {D} FINAL
    WHERE {where}
    ORDER BY {D.computed_at} DESC
    LIMIT 1 BY {", ".join(by)}
  )"""


def counted_as_drift() -> str:
    """A drift row's test counted by the monitor as drift of the model's window (detail
    ``model_level``: statistic above its threshold, and kept by the false-discovery
    control across the window's tests and ``min_effect``); rows written without it: the
    test's own ``drifted``."""
    return (f"if(JSONHas({D.details}, 'model_level'), "
            f"JSONExtractBool({D.details}, 'model_level'), {D.drifted} = 1)")


def drift_ratio(counted_only: bool = False) -> str:
    """A row's statistic / threshold (drift above 1); beyond a zero threshold (a column
    constant in the reference: any change is drift) :data:`UNBOUNDED_SEVERITY` (before,
    none: the drift the monitor alerted on was a blank cell); none for a row without a
    threshold (an infinite one is stored as 0, not drifted).
    ``counted_only`` (rows of :func:`latest_results` with ``counted``): at most 1 where the
    monitor did not count the test as drift, so "above 1" is the monitor's own verdict."""
    ratio = (f"if({D.threshold} > 0, {D.statistic} / {D.threshold}, "
             f"if({D.drifted} = 1, {UNBOUNDED_SEVERITY:g}, NULL))")
    # (not least(): it reads a NULL, no ratio, as 1)
    return (f"if(counted OR ifNull(({ratio}) <= 1, 1), {ratio}, 1)" if counted_only
            else ratio)


def _selected(var: str, all_value: str, column: str) -> str:
    """``column`` is one of the values chosen in multi-valued variable ``var``, or any when
    *All* (its custom all value ``all_value``) is chosen."""
    chosen = f"${{{var}:singlequote}}"
    return f"({all_value} IN ({chosen}) OR {column} IN ({chosen}))"


def model_in(column: str) -> str:
    """``column`` is one of the selected models, or any under *All* (:data:`ALL_MODELS`).

    Works for a single-valued model variable too (``'churn'`` in, ``'churn'`` out).
    """
    return _selected(MODEL_VAR, ALL_MODELS, column)


def monitor_in(column: str = D.monitor) -> str:
    """``column`` is one of the selected monitors, or any under *All* (:data:`ALL_MONITORS`)."""
    return _selected(MONITOR_VAR, ALL_MONITORS, column)


def by_monitor(name: str, partition: str = "") -> str:
    """SQL of a line's name ``name`` that starts with its monitor (``train: emd (all)``)
    when the query's rows hold more than one monitor (per ``partition``, e.g. the model),
    and is ``name`` unchanged otherwise: *All* never merges two monitors into one line.

    A window function: use it in a query whose rows are single ``drift_results`` or
    ``alerts`` rows (or grouped by the monitor), then group or order outside it.
    """
    over = f"PARTITION BY {partition}" if partition else ""
    m = D.monitor
    return f"if(uniqExact({m}) OVER ({over}) > 1, concat({m}, ': ', {name}), {name})"


def series_name(*parts: str) -> str:
    """SQL of a line's name (rows of :func:`latest_results`): the parts, then the segment
    in parentheses (``emd (all)``, ``missing_rate age (region=north)``, ``emd
    (model_version=2 vs rest)``: :func:`segment_shown`)."""
    joined = ", ' ', ".join(parts)
    return f"concat({joined}, ' (', {segment_shown()}, ')')"


def segment_shown() -> str:
    """The segment as a line or a verdict names it (rows of :func:`latest_results`): its
    label, then `` vs rest`` for a ``versus_rest`` segment, whose drift is judged against
    the rest of its window, not the reference (a canary's inputs unlike the old
    version's: no drift of the model's data)."""
    return f"concat({segment_label()}, if(versus = '', '', concat(' vs ', versus)))"


def segment_label() -> str:
    """The segment as shown: ``all`` for the whole population."""
    return f"if({D.segment} IN ('', '*'), '{ALL_SEGMENT}', {D.segment})"


def segment_in() -> str:
    """The row's segment is one of the selected ones."""
    return f"{segment_label()} IN (${{{SEGMENT_VAR}:singlequote}})"


def features_in(expr: str) -> str:
    """``expr`` is one of the selected features."""
    return f"{expr} IN (${{{FEATURE_VAR}:singlequote}})"


def is_quality() -> str:
    """Data-quality rows."""
    return f"{D.fingerprint} = '{QUALITY_FP}'"


def is_performance() -> str:
    """Performance rows (metrics from labels)."""
    return f"{D.fingerprint} = '{PERFORMANCE_FP}'"


def is_drift(alias: str = "") -> str:
    """Drift rows of any target (``alias``: a table alias such as ``d.``)."""
    return f"{alias}{D.fingerprint} NOT IN ('{QUALITY_FP}', '{PERFORMANCE_FP}')"


def feature_drift() -> str:
    """Drift rows of input features (not outputs, projections or the multivariate test)."""
    return (
        f"{is_drift()} AND NOT startsWith({D.feature}, '{OUTPUT_PREFIX}') "
        f"AND NOT startsWith({D.feature}, '{PROJECTION_PREFIX}') "
        f"AND {D.feature} NOT IN ('{MULTIVARIATE}', '', '*')"
    )


def multivariate_drift() -> str:
    """Drift rows of projections and of the multivariate test."""
    return (
        f"{is_drift()} AND ({D.feature} = '{MULTIVARIATE}' "
        f"OR startsWith({D.feature}, '{PROJECTION_PREFIX}'))"
    )


def output_drift() -> str:
    """Drift rows of model outputs: the label-free performance proxy."""
    return f"{is_drift()} AND startsWith({D.feature}, '{OUTPUT_PREFIX}')"
