"""The monitor's data-quality checks cover its scalar outputs as well as its features, on
chDB: a score missing from half the events and a class output taking a value the reference
never had are named as such, not only as drift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
CLASSES = np.array(["churn", "stay"], dtype=object)


def test_a_missing_score_and_a_new_class_are_quality_findings(store: Store) -> None:
    def generate(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        score = rng.random(n)
        cls = CLASSES[(score > 0.5).astype(int)]
        if i >= 6:
            score[: n // 2] = np.nan
            cls[: n // 4] = "unknown"
        return {"x": rng.normal(size=n), "output:score": score, "output:cls": cls}

    write_windows(store, "m", T0, W, 8, 400, generate, seed=6)
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                      "outputs": ["score", "cls"],
                      "reference": {"kind": "fixed", "start": T0.isoformat(),
                                    "end": (T0 + 4 * W).isoformat()}}],
        "alerts": {"console": False}})
    verdicts = Monitor(store, cfg).run_once()
    quality = [{(f.feature, f.metric) for f in v.findings if f.kind == "quality"}
               for v in verdicts]
    assert quality[4] == quality[5] == set()
    assert quality[6] == quality[7] == {("output:score", "missing_rate"),
                                        ("output:cls", "new_categories")}
