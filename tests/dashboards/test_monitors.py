"""Several monitors of one model: the Monitor variable keeps the chosen ones, and under
*All* each monitor's lines are told apart by name.

Model ``two`` has two monitors (``train``: against the training set, ``prev24``: against
the previous windows) with different results in the same windows; model ``one`` has a
single monitor, whose lines keep the names they always had.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dashfill import _insert, _result, filled_database

from driftscope.dashboards import build as b
from driftscope.dashboards import panels_drift, panels_overview, panels_quality
from driftscope.dashboards.macros import ALL, expand
from driftscope.dashboards.spec import PanelSpec
from driftscope.store import schema
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 5, 1, tzinfo=UTC)
H = timedelta(hours=1)
T1 = T0 + 3 * H
TWO, ONE = "two", "one"
# (model, monitor, window) -> (statistic, threshold): train drifts in window 0 only,
# prev24 in window 1 only; a max over both monitors would show drift in both windows.
RESULTS = {
    (TWO, "train", 0): (0.5, 0.25), (TWO, "train", 1): (0.1, 0.25),
    (TWO, "prev24", 0): (0.06, 0.3), (TWO, "prev24", 1): (0.9, 0.3),
    (ONE, "solo", 0): (0.2, 0.4), (ONE, "solo", 1): (0.6, 0.4),
}
MONITORS = {TWO: ["prev24", "train"], ONE: ["solo"]}


def _rows() -> list[dict[str, Any]]:
    rows = []
    for (model, monitor, w), (stat, thr) in RESULTS.items():
        start = T0 + w * H
        for fp, feature, metric, policy in (
            ("fp-emd", "age", "emd", "constant"),
            ("fp-mmd", "multivariate", "mmd", "constant"),
            ("fp-emd", "output:score", "emd", "constant"),
            ("quality", "age", "missing_rate", "limit"),
            ("performance", "*", "accuracy", "band"),
        ):
            rows.append(_result(model, fp, start, "*", feature, metric, stat, thr, policy)
                        | {"monitor": monitor})
    return rows


def _fill(store: Store) -> None:
    _insert(store, schema.DRIFT_RESULTS, _rows())
    _insert(store, schema.ALERTS, [
        {"alert_id": f"{model}-{monitor}", "model_id": model, "monitor": monitor,
         "window_start": T0, "rule": "feature_drift", "state": "firing", "severity": 1.0,
         "summary": "s", "details": "{}", "created_at": T0 + H, "updated_at": T0 + H}
        for model, monitors in MONITORS.items() for monitor in monitors])


@pytest.fixture(scope="module")
def monitors(chdb_dsn: str) -> Iterator[Store]:
    yield from filled_database(chdb_dsn, "mons", _fill)


def _run(store: Store, spec: PanelSpec, model: str, monitor: list[str]) -> list[dict[str, Any]]:
    """The panel's rows as Grafana gets them: ``monitor`` is the variable's value, [ALL]
    for *All* (replaced by the variable's custom all value, if it has one)."""
    v = {"model": [model], "feature": ["age"], "segment": ["all"], "monitor": monitor}
    cols, rows = store.query_columns(expand(spec.sql, T0, T1, 3600, v,
                                            all_values=b.ALL_VALUES))
    assert tuple(cols) == spec.columns or not rows, spec.key
    return [dict(zip(cols, r, strict=True)) for r in rows]


def _window(t: datetime) -> int:
    return int((t.replace(tzinfo=UTC) - T0) / H)


def _ratio(stat: float, thr: float) -> float:
    return stat / thr


def _stat(stat: float, thr: float) -> float:
    return stat


# panel, column of the series name, column of the value, the name with one monitor, value
LINES: list[tuple[Callable[[], PanelSpec], str, str, str, Callable[[float, float], float]]] = [
    (panels_drift.drift_statistic, "series", "ratio", "emd (all)", _ratio),
    (panels_drift.projection_drift, "series", "ratio", "mmd multivariate (all)", _ratio),
    (panels_drift.drift_heatmap, "feature", "ratio", "age", _ratio),
    (panels_quality.quality_checks, "series", "value", "missing_rate age (all)", _stat),
    (panels_quality.performance, "series", "value", "accuracy (all)", _stat),
    (panels_quality.performance_proxy, "series", "value", "emd output:score (all)", _stat),
]
IDS = [fn.__name__ for fn, *_ in LINES]


def _lines(store: Store, case: tuple[Any, ...], model: str,
           monitor: list[str]) -> dict[tuple[int, str], float]:
    fn, name_col, value_col, *_ = case
    rows = _run(store, fn(), model, monitor)
    got = {(_window(r["time"]), r[name_col]): r[value_col] for r in rows}
    assert len(got) == len(rows), f"two rows for one line: {rows}"
    return got


def _expected(case: tuple[Any, ...], model: str, monitors: list[str],
              named: bool) -> dict[tuple[int, str], Any]:
    *_, name, value = case
    return {(w, f"{m}: {name}" if named else name): pytest.approx(value(*sv))
            for (mod, m, w), sv in RESULTS.items() if mod == model and m in monitors}


@pytest.mark.parametrize("case", LINES, ids=IDS)
@pytest.mark.parametrize("chosen", ["train", "prev24"])
def test_one_monitor_chosen_shows_only_its_values(monitors: Store, case: Any,
                                                  chosen: str) -> None:
    """(a) The Monitor variable set to one monitor: its values alone, names unchanged."""
    assert _lines(monitors, case, TWO, [chosen]) == _expected(case, TWO, [chosen], False)


@pytest.mark.parametrize("case", LINES, ids=IDS)
@pytest.mark.parametrize("everything", [[ALL], MONITORS[TWO]], ids=["All", "both-listed"])
def test_all_monitors_are_distinct_series_named_by_monitor(monitors: Store, case: Any,
                                                           everything: list[str]) -> None:
    """(b) *All* (or both chosen): one line per monitor, its name first."""
    got = _lines(monitors, case, TWO, everything)
    assert got == _expected(case, TWO, MONITORS[TWO], True)


@pytest.mark.parametrize("case", LINES, ids=IDS)
@pytest.mark.parametrize("everything", [[ALL], ["solo"]], ids=["All", "listed"])
def test_a_single_monitor_keeps_its_series_names(monitors: Store, case: Any,
                                                 everything: list[str]) -> None:
    """(c) A model with one monitor: the names it always had, under *All* too."""
    assert _lines(monitors, case, ONE, everything) == _expected(case, ONE, ["solo"], False)


def test_latest_verdict_per_monitor(monitors: Store) -> None:
    def verdicts(model: str, monitor: list[str]) -> dict[str, tuple[float, float, int]]:
        rows = _run(monitors, panels_drift.drifted_features(), model, monitor)
        return {r["metric"]: (r["statistic"], r["threshold"], r["drifted"]) for r in rows}

    assert verdicts(TWO, ["train"]) == {"emd": (0.1, 0.25, 0)}
    assert verdicts(TWO, [ALL]) == {"train: emd": (0.1, 0.25, 0),
                                    "prev24: emd": (0.9, 0.3, 1)}
    assert verdicts(ONE, [ALL]) == {"emd": (0.6, 0.4, 1)}


def test_overview_and_alerts_by_monitor(monitors: Store) -> None:
    def run(fn: Any, model: str, monitor: list[str]) -> list[dict[str, Any]]:
        return _run(monitors, fn(), model, monitor)

    assert run(panels_overview.open_alerts, TWO, [ALL]) == [{"open_alerts": 2}]
    assert run(panels_overview.open_alerts, TWO, ["train"]) == [{"open_alerts": 1}]
    assert {r["monitor"] for r in run(panels_overview.alert_timeline, TWO, ["prev24"])} == {
        "prev24"}
    assert {r["rule"] for r in run(panels_overview.alerts_over_time, TWO, [ALL])} == {
        "prev24: feature_drift", "train: feature_drift"}
    assert {r["rule"] for r in run(panels_overview.alerts_over_time, TWO, ["train"])} == {
        "feature_drift"}
    status = {r["model"]: r["drifted_checks"]
              for r in run(panels_overview.drift_status, TWO, [ALL])}
    assert status == {"two: prev24": 3, "two: train": 0}  # latest window: 1
    assert [r["model"] for r in run(panels_overview.drift_status, ONE, [ALL])] == [ONE]
    ann = panels_overview.alert_annotations()
    v = {"model": [TWO], "monitor": ["train"]}
    assert {r[2] for r in monitors.query(expand(ann.sql, T0, T1, 3600, v))} == {"train,firing"}


def test_monitor_variable_lists_the_models_monitors(monitors: Store) -> None:
    sql = b.variable_queries()["monitor"]
    for model, names in MONITORS.items():
        rows = monitors.query(expand(sql, T0, T1, 60, {"model": [model]}))
        assert sorted(r[0] for r in rows) == names
    d = {v["name"]: v for v in b.build("model_drift")["templating"]["list"]}
    assert d["monitor"]["multi"] and d["monitor"]["includeAll"]
    assert d["monitor"]["current"]["value"] == [ALL]
    for key, spec in b.DASHBOARDS.items():
        reads_monitor = any("${monitor" in s.sql for s in b.panel_specs(key))
        assert ("monitor" in spec.variables) == reads_monitor, key


def test_report_shows_the_monitors_apart(monitors: Store) -> None:
    from driftscope.dashboards.report import render

    def panel(html: str, key: str) -> str:
        return html.split(f'id="panel-{key}')[1].split("</section>")[0]

    two = panel(render(monitors, TWO, T0, T1), "drift_statistic")
    assert "train: emd (all)" in two and "prev24: emd (all)" in two
    one = panel(render(monitors, ONE, T0, T1), "drift_statistic")
    assert "emd (all)" in one and "solo" not in one


@pytest.mark.parametrize("chosen", ["train", "prev24"])
def test_missing_values_from_the_chosen_monitor(monitors: Store, chosen: str) -> None:
    """A model without raw events: the missing rate is the chosen monitor's check."""
    rows = _run(monitors, panels_quality.missing_rate(), TWO, [chosen])
    got = {_window(r["time"]): r["missing_rate"] for r in rows}
    assert got == {w: pytest.approx(RESULTS[(TWO, chosen, w)][0]) for w in (0, 1)}
