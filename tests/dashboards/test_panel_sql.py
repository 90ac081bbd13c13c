"""Every panel's SQL, expanded as Grafana and the ClickHouse plugin would, runs on chDB."""

from __future__ import annotations

import pytest
from dashfill import ALERTS_MONITOR, DRIFTING, FEATURES, MODELS, MONITOR, T0, T1, variables

from driftscope.dashboards import build as b
from driftscope.dashboards.macros import expand
from driftscope.dashboards.spec import PanelSpec
from driftscope.store.clickhouse import Store

SPECS = [(key, spec) for key in sorted(b.DASHBOARDS) for spec in b.panel_specs(key)]
ANNOTATIONS = sorted({fn().name: fn() for d in b.DASHBOARDS.values()
                      for fn in d.annotations}.items())


def _vars(spec: PanelSpec, model: str, feature: str) -> dict[str, list[str]]:
    v = variables(model)
    if spec.repeat == "feature":  # a repeated panel sees one value
        v["feature"] = [feature]
    return v


def _run(store: Store, sql: str, v: dict[str, list[str]]) -> tuple[list[str], list[tuple]]:
    return store.query_columns(expand(sql, T0, T1, 3600, v, all_values=b.ALL_VALUES))


@pytest.mark.parametrize(("dashboard", "spec"), SPECS, ids=[f"{k}-{s.key}" for k, s in SPECS])
def test_panel_sql_returns_expected_columns(
    filled_store: Store, dashboard: str, spec: PanelSpec
) -> None:
    features = FEATURES if spec.repeat == "feature" else (DRIFTING,)
    for model in MODELS:
        for feature in features:  # numeric and categorical alike
            cols, rows = _run(filled_store, spec.sql, _vars(spec, model, feature))
            assert tuple(cols) == spec.columns, spec.key
            assert rows, f"{dashboard}/{spec.key} returned no rows for {model}, {feature}"
            if spec.time_series:
                assert len({r[0] for r in rows}) > 1, "a time series needs several times"


def test_drift_panels_see_the_drift(filled_store: Store) -> None:
    from driftscope.dashboards import panels_drift

    v = variables() | {"segment": ["all"], "feature": [DRIFTING]}
    _, rows = _run(filled_store, panels_drift.drift_heatmap().sql, v)
    t0 = T0.replace(tzinfo=None)  # clickhouse-connect returns naive UTC
    early = [r[2] for r in rows if r[0] < t0.replace(hour=23)]
    late = [r[2] for r in rows if r[0] >= t0.replace(day=2)]
    assert max(early) < 1 < min(late), "the simulated shift shows as drift, only after it"


@pytest.mark.parametrize(("name", "ann"), ANNOTATIONS, ids=[n for n, _ in ANNOTATIONS])
def test_annotation_sql(filled_store: Store, name: str, ann) -> None:
    cols, rows = _run(filled_store, ann.sql, variables())
    assert tuple(cols) == ann.columns and rows


@pytest.mark.parametrize("name", sorted(b.variable_queries()))
def test_variable_queries(filled_store: Store, name: str) -> None:
    _, rows = _run(filled_store, b.variable_queries()[name], variables())
    values = {r[0] for r in rows}
    expected = {"model": set(MODELS), "feature": set(FEATURES), "segment": {"all", "region=north"},
                "monitor": {MONITOR, ALERTS_MONITOR}}  # drift_results', alerts' monitors
    assert values == expected[name]
