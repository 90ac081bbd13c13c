"""What the dashboards expect the monitor and alerts to write, and shared SQL fragments.

``drift_results`` holds every measurement, told apart by ``monitor``:

* per-feature drift: any other monitor, with ``feature`` set (``metric`` = detector name);
* ``data_quality``: missing rate, out-of-range rate, schema checks (``metric``), per feature;
* ``performance``: metrics from labels (``metric`` = accuracy, f1, mae …), ``feature`` empty;
* ``performance_proxy``: the label-free proxy (prediction drift, confidence …);
* ``multivariate``: MMD (``feature`` empty) and projections (``feature`` = component).

``segment`` is empty for the whole population; dashboards show it as ``all``. A
retrain request is a row of ``retrain_requests``. Table and column names come from
:mod:`driftscope.store.schema` only.
"""

from __future__ import annotations

from driftscope.store import schema

D = schema.DRIFT_RESULTS
MONITOR_QUALITY = "data_quality"
MONITOR_PERFORMANCE = "performance"
MONITOR_PROXY = "performance_proxy"
MONITOR_MULTIVARIATE = "multivariate"
NON_FEATURE_MONITORS = (MONITOR_QUALITY, MONITOR_PERFORMANCE, MONITOR_PROXY, MONITOR_MULTIVARIATE)
RESOLVED_STATE = "resolved"
ALL_SEGMENT = "all"

MODEL_VAR = "model"
FEATURE_VAR = "feature"
SEGMENT_VAR = "segment"


def quoted(values: tuple[str, ...]) -> str:
    """``('a', 'b')`` as ``'a', 'b'`` for an SQL ``IN`` list."""
    return ", ".join(f"'{v}'" for v in values)


def model_is(column: str) -> str:
    """``column = '${model}'``."""
    return f"{column} = '${{{MODEL_VAR}}}'"


def segment_label(table: schema._Table = D) -> str:
    """The segment as shown: ``all`` for the whole population."""
    return f"if({table.segment} = '', '{ALL_SEGMENT}', {table.segment})"


def segment_in() -> str:
    """The drift_results row's segment is one of the selected ones."""
    return f"{segment_label()} IN (${{{SEGMENT_VAR}:singlequote}})"


def features_in(expr: str) -> str:
    """``expr`` is one of the selected features."""
    return f"{expr} IN (${{{FEATURE_VAR}:singlequote}})"


def feature_drift() -> str:
    """Rows of per-feature drift monitors."""
    return f"{D.monitor} NOT IN ({quoted(NON_FEATURE_MONITORS)}) AND {D.feature} != ''"
