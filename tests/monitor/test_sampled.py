"""A model logged without raw events (``logging: [sample]``): the monitor reads each
window's bottom-k sample, and takes the window's count from the collector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D = S.DRIFT_RESULTS
K = 400  # the sample: K of each window's 2,000 events


def config(logging: list[str], **monitor: Any) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m", "logging": logging, "sample_size": K}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x", "plan"],
                      "reference": {"kind": "previous", "windows": 3}, **monitor}],
        "alerts": {"console": False}})


def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    y = rng.integers(0, 2, n)
    wrong = rng.uniform(size=n) < 0.1
    return {"x": rng.normal(1.0 if i >= 12 else 0.0, 1, n),
            "plan": rng.choice(np.array(["a", "b", "c"], dtype=object), n),
            "label": [str(v) for v in y], "output:pred": np.where(wrong, 1 - y, y).astype(float)}


def test_a_sampled_model_is_monitored_on_its_samples(store: Store) -> None:
    write_windows(store, "m", T0, W, 14, 2000, gen, seed=1, sampled=True)
    verdicts = Monitor(store, config(["sample"], performance={
        "task": "classification", "prediction": "pred"})).run_once()
    assert len(verdicts) == 14
    assert all(v.n_events == 2000 for v in verdicts)  # the window's count, not the sample's
    # no false volume drop from reading K of 2,000 events (nor any quality finding), at
    # most a chance drift finding before the drift from window 12, which is found
    assert not any(f.kind != "drift" for v in verdicts for f in v.findings)
    assert sum(v.drifted for v in verdicts[3:12]) <= 1
    assert {f.feature for v in verdicts[12:] for f in v.findings if f.kind == "drift"} == {"x"}
    (n_cur,), = store.query(f"SELECT DISTINCT {D.n_cur} FROM {D} WHERE {D.metric} = 'emd'")
    assert n_cur == K  # detectors see the sample
    assert verdicts[5].metrics["accuracy"] == pytest.approx(0.9, abs=0.05)  # labels joined


def test_a_sampled_model_pass_by_pass_keeps_its_volume_history(store: Store) -> None:
    cfg = config(["sample"])
    for i in range(16):  # `driftscope monitor`: a pass as each window closes
        n = 100 if i == 15 else 2000  # the last window's traffic falls by 95 %
        write_windows(store, "m", T0 + i * W, W, 1, n, gen, seed=i, sampled=True)
        verdicts = Monitor(store, cfg).run_once()
    (v,) = verdicts
    assert v.n_events == 100 and any(f.metric == "volume" for f in v.findings)


def test_a_sampled_window_counts_what_the_collector_stored_not_its_windows_row(
    store: Store,
) -> None:
    write_windows(store, "m", T0, W, 11, 2000, gen, seed=1, sampled=True)
    write_windows(store, "m", T0 + 11 * W, W, 1, 2000, gen, seed=2, sampled=True, closed=False)
    # a windows row written short (a first collector of a group closing it early)
    store.insert(S.WINDOWS, [("m", T0 + 11 * W, T0 + 12 * W, 600, 500, 0, T0 + 13 * W)],
                 S.WINDOWS.columns)
    verdicts = Monitor(store, config(["sample"])).run_once()
    assert verdicts[-1].n_events == 2000
    assert not any(f.metric == "volume" for v in verdicts for f in v.findings)
