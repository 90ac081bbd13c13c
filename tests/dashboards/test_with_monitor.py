"""The panels read what the real monitor and alert engine write.

A simulated instantaneous covariate shift is written as the collector would (events and
closed windows, :func:`driftscope.monitor.seed.write_windows`); the real
:class:`~driftscope.monitor.scheduler.Monitor` and alert engine process it; then every
panel that reads their tables runs on the result.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from dashfill import keep_monitor_passes

from driftscope.alerts.engine import AlertEngine
from driftscope.config import Config
from driftscope.dashboards import build as b
from driftscope.dashboards.macros import ALL, expand
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.simulators.scenarios import Clock, get_scenario
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
WINDOWS, PER = 16, 120
PASS_AT = T0 + (WINDOWS + 2) * HOUR
"""The monitor's clock: its pass, and every verdict, is written then."""
# Panels on when the monitor ran, not on the windows: their range reaches its pass.
AT_PASS = {"monitor_passes"}
FEATURES = ["age", "latency_ms", "plan"]
# Panels on tables only the collector or a retrain policy fills.
NOT_FROM_MONITOR = {"throughput", "consumer_lag", "flush_latency", "dead_letters_by_reason",
                    "late_events", "dead_letter_reasons", "dead_letter_rate",
                    "retrain_requests", "label_coverage",
                    "alert_delivery"}  # (what the dispatcher did: no channel here)
# The monitor compares with a fixed time range, not an uploaded dataset: this panel shows
# an uploaded dataset only, so it must stay empty here (not draw made-up bins).
NEEDS_UPLOADED_REFERENCE = {"reference_vs_current"}


def _columns() -> dict[str, np.ndarray]:
    sc = get_scenario("instantaneous-covariate")
    clock = Clock(start=T0, events_per_second=PER / 3600)
    s = sc.generate(np.random.default_rng(3), WINDOWS * PER, onset=0.5, intensity="high",
                    clock=clock)
    age = s.features["age"].astype(float)
    score = 1 / (1 + np.exp(-(age - 40) / 10))
    return {
        "age": age, "latency_ms": s.features["latency_ms"].astype(float),
        "plan": s.features["plan"], "segment:region": s.features["region"],
        "output:score": score, "output:label": np.where(score > 0.5, "1", "0").astype(object),
        "label": s.labels.astype(int).astype(str).astype(object),
    }


def _config() -> Config:
    return Config.model_validate({
        "models": [{"id": "churn", "window": "1h"}],
        "monitors": [{
            "name": "churn-all", "model": "churn", "features": FEATURES,
            "outputs": ["score"], "segments": ["region"],
            "projections": [{"name": "pca", "kind": "random", "features": ["age",
                                                                            "latency_ms"]}],
            "detectors": [{"name": "linf", "threshold": {"policy": "permutation", "n": 50}},
                          {"name": "mmd", "threshold": {"policy": "permutation", "n": 50}}],
            "performance": {"prediction": "label", "score": "score", "metrics": ["accuracy"]},
            "fdr": {"method": "bh", "alpha": 0.05},  # p >= 1/51 with 50 permutations
            "reference": {"kind": "fixed", "start": T0.isoformat(),
                          "end": (T0 + 6 * HOUR).isoformat()},
        }],
        "alerts": {"console": False},
    })


@pytest.fixture(scope="module")
def monitored(chdb_dsn: str) -> Any:
    import uuid

    store = Store(chdb_dsn, database=f"mon_{uuid.uuid4().hex[:10]}")
    store.migrate()
    cols = _columns()

    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {k: v[i * PER:(i + 1) * PER] for k, v in cols.items()}

    write_windows(store, "churn", T0, HOUR, WINDOWS, PER, gen, seed=1)
    keep_monitor_passes(store)  # (the pass is dated months ago: the TTL would drop it)
    cfg = _config()
    Monitor(store, cfg, alerts=AlertEngine(store, cfg.alerts), clock=lambda: PASS_AT).run_once()
    yield store
    store.drop_database()


SPECS = [s for k in sorted(b.DASHBOARDS) for s in b.panel_specs(k)
         if s.key not in NOT_FROM_MONITOR]


@pytest.mark.parametrize("spec", SPECS, ids=[s.key for s in SPECS])
def test_panel_reads_monitor_output(monitored: Store, spec: Any) -> None:
    variables = {name: [r[0] for r in monitored.query(
        expand(sql, T0, T0 + WINDOWS * HOUR, 60, {"model": ["churn"], "monitor": [ALL]},
               all_values=b.ALL_VALUES))]
        for name, sql in b.variable_queries().items()}
    assert variables["monitor"] == ["churn-all"]
    assert set(variables["feature"]) == set(FEATURES)
    assert "all" in variables["segment"] and len(variables["segment"]) > 1
    if spec.repeat == "feature":
        variables["feature"] = ["age"]
    until = PASS_AT + HOUR if spec.key in AT_PASS else T0 + WINDOWS * HOUR
    sql = expand(spec.sql, T0, until, 3600, variables)
    cols, rows = monitored.query_columns(sql)
    if spec.key in NEEDS_UPLOADED_REFERENCE:
        assert rows == [], f"{spec.key}: rows without an uploaded reference: {rows[:3]}"
        return
    assert tuple(cols) == spec.columns
    assert rows, f"{spec.key}: no rows from the monitor's output"


def test_drift_lines_match_the_monitor_rows_of_each_segment(monitored: Store) -> None:
    """Per segment, the line is the row's statistic / threshold: above 1 exactly when the
    monitor wrote drifted = 1; the whole population (``all``) is one of the lines."""
    from driftscope.dashboards.panels_drift import drift_statistic

    segments = [r[0] for r in monitored.query(expand(
        b.variable_queries()["segment"], T0, T0 + WINDOWS * HOUR, 60,
        {"model": ["churn"], "monitor": ["churn-all"]}))]
    v = {"model": ["churn"], "monitor": ["churn-all"], "feature": ["age"], "segment": segments}
    _, rows = monitored.query_columns(
        expand(drift_statistic().sql, T0, T0 + WINDOWS * HOUR, 3600, v))
    stored = {(w.replace(tzinfo=None), m, "all" if s == "*" else s): (st, th, d)
              for w, m, s, st, th, d in monitored.query(
                  "SELECT window_start, metric, segment, statistic, threshold, drifted "
                  "FROM drift_results FINAL WHERE feature = 'age' "
                  "AND fingerprint NOT IN ('quality', 'performance')")}
    assert len(rows) == len(stored) and len({r[1] for r in rows}) > 2
    for time, series, ratio in rows:
        metric, segment = series[:-1].split(" (")
        statistic, threshold, drifted = stored[(time.replace(tzinfo=None), metric, segment)]
        assert ratio == pytest.approx(statistic / threshold)
        assert (ratio > 1) == bool(drifted), (time, series)
    assert any(r[1].endswith("(all)") and r[2] > 1 for r in rows), "the shift shows overall"


def test_monitor_health_panels_read_the_monitors_bookkeeping(monitored: Store) -> None:
    """Passes, verdict delays and backlog from what the real monitor recorded."""
    from driftscope.dashboards import panels_collector as pc

    def run(spec: Any, until: datetime) -> list[tuple[Any, ...]]:
        return monitored.query(expand(spec.sql, T0, until, 3600, {}))

    judged = monitored.query("SELECT count() FROM monitor_windows")[0][0]
    assert judged >= WINDOWS
    passes = [r for r in run(pc.monitor_passes(), PASS_AT + HOUR) if r[1]]
    assert passes == [(PASS_AT.replace(tzinfo=None), 1, judged)]
    (configured,), = monitored.query("SELECT monitors FROM monitor_passes")
    assert [tuple(m) for m in configured] == [("churn", "churn-all")], \
        "the pass names the monitors it was configured with (the backlog lists those)"
    delays = {(t.replace(tzinfo=UTC), m): d
              for t, m, d in run(pc.verdict_delay(), T0 + WINDOWS * HOUR)}
    # window k closed at its end, T0 + (k + 1) h; every verdict was written at PASS_AT
    assert delays == {(T0 + (k + 1) * HOUR, "churn: churn-all"): pytest.approx(
        (PASS_AT - T0 - (k + 1) * HOUR).total_seconds()) for k in range(WINDOWS)}
    assert run(pc.unjudged_windows(), T0 + WINDOWS * HOUR) == [("churn", "churn-all", 0)]
