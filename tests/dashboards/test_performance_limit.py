"""The Performance panel's dashed limit, from what the real monitor writes: where a rule
holds a metric, its bound in every window. Before, the limit was the rule's bound in the
windows the rule fired in, the band's edge in the others (0.70, 0.58, 0.70 …), and none
where the value crossed the bound within its noise: the line jumped, and Grafana joined
it across the gaps."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from driftscope.config import Config
from driftscope.dashboards import build as b
from driftscope.dashboards.conventions import MODEL_VAR, MONITOR_VAR, SEGMENT_VAR
from driftscope.dashboards.macros import ALL, expand
from driftscope.dashboards.panels_quality import performance
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
# accuracy per window: steady at 0.9, then around the bound of 0.8, then well under it
ACCURACY = [0.9] * 10 + [0.82, 0.78, 0.81, 0.79] + [0.6] * 4


def _gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    x = rng.normal(0, 1, n)
    pred = np.where(x > 0, "1", "0").astype(object)
    right = np.arange(n) < round(ACCURACY[i] * n)  # exactly that share right
    label = np.where(right, pred, np.where(pred == "1", "0", "1")).astype(object)
    return {"x": x, "output:label": pred, "label": label}


@pytest.fixture(scope="module")
def judged(chdb_dsn: str) -> Iterator[Store]:
    store = Store(chdb_dsn, database=f"perf_{uuid.uuid4().hex[:10]}")
    store.migrate()
    write_windows(store, "m", T0, HOUR, len(ACCURACY), 200, _gen, seed=2)
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "1h"}],
        "monitors": [{"name": "perf", "model": "m", "features": ["x"],
                      "performance": {"prediction": "label", "metrics": ["accuracy"]},
                      "band": {"min_history": 3},
                      "rules": [{"metric": "accuracy", "op": "<", "value": 0.8}],
                      "reference": {"kind": "fixed", "start": T0.isoformat(),
                                    "end": (T0 + 4 * HOUR).isoformat()}}],
        "alerts": {"console": False}})
    Monitor(store, cfg).run_once()
    yield store
    store.drop_database()


def test_a_ruled_metric_is_drawn_with_its_rules_bound_in_every_window(judged: Store) -> None:
    sql = expand(performance().sql, T0, T0 + len(ACCURACY) * HOUR, 3600,
                 {MODEL_VAR: ["m"], MONITOR_VAR: [ALL], SEGMENT_VAR: ["all"]},
                 all_values=b.ALL_VALUES)
    rows = [r for r in judged.query(sql) if r[1] == "accuracy (all)"]
    assert len(rows) == len(ACCURACY)
    assert [round(r[2], 3) for r in rows] == ACCURACY
    assert {r[3] for r in rows} == {0.8}, [r[3] for r in rows]


def test_where_a_second_rule_fired_its_bound_is_drawn(chdb_dsn: str) -> None:
    """Two rules on one metric (an upper one listed first): where the lower one fired, the
    panel drew the first rule's bound (0.99), not the one the value crossed."""
    store = Store(chdb_dsn, database=f"perf2_{uuid.uuid4().hex[:10]}")
    store.migrate()
    try:
        write_windows(store, "m", T0, HOUR, len(ACCURACY), 200, _gen, seed=2)
        cfg = Config.model_validate({
            "models": [{"id": "m", "window": "1h"}],
            "monitors": [{"name": "perf", "model": "m", "features": ["x"],
                          "performance": {"prediction": "label", "metrics": ["accuracy"]},
                          "rules": [{"metric": "accuracy", "op": ">", "value": 0.99,
                                     "beyond_noise": 0},
                                    {"metric": "accuracy", "op": "<", "value": 0.8}],
                          "reference": {"kind": "fixed", "start": T0.isoformat(),
                                        "end": (T0 + 4 * HOUR).isoformat()}}],
            "alerts": {"console": False}})
        Monitor(store, cfg).run_once()
        sql = expand(performance().sql, T0, T0 + len(ACCURACY) * HOUR, 3600,
                     {MODEL_VAR: ["m"], MONITOR_VAR: [ALL], SEGMENT_VAR: ["all"]},
                     all_values=b.ALL_VALUES)
        drawn = {round(r[2], 3): r[3] for r in store.query(sql) if r[1] == "accuracy (all)"}
        assert drawn[0.6] == 0.8 and drawn[0.9] == 0.99, drawn
    finally:
        store.drop_database()
