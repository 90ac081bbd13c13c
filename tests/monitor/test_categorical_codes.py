"""Numbers that are codes — a product id, a zip code, a class number — were judged as
amounts: EMD read 12 points of share moving from product 1 to product 2 as nothing (one
code apart) and 4 points moving from product 1 to product 20 as drift (nineteen apart),
and a product never seen before as a value out of range. ``categorical`` names them; a
classifier's predicted class among the outputs is one when its reference holds three
classes or more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from stored_windows import close_window

from driftscope.config import Config
from driftscope.monitor.config import MonitorConfig
from driftscope.monitor.detect import Fitter
from driftscope.monitor.evaluate import align, drift_rows, quality_rows
from driftscope.monitor.frame import Frame
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

CODES = np.arange(1, 21, dtype=float)  # 20 products: product 1 at 24 %, the others 4 %
REF = np.array([0.24] + [0.04] * 19)


def shares(moved: float, src: int, dst: int) -> np.ndarray:
    p = REF.copy()
    p[src - 1] -= moved
    p[dst - 1] += moved
    return p


def flagged(cfg: MonitorConfig, p_cur: np.ndarray, column: str = "product",
            n: int = 5000) -> dict[str, bool]:
    """Each detector's model-level verdict on ``column`` (codes 1-20; a dataset-like
    reference of 20,000 events)."""
    rng = np.random.default_rng(3)

    def frame(p: np.ndarray, size: int) -> Frame:
        return Frame(np.arange(size).astype("datetime64[ms]"),
                     {column: rng.choice(CODES, size=size, p=p)})

    cur, ref, _ = align(frame(p_cur, n), frame(REF, 20000), cfg)
    return {r.metric: bool(r.details["model_level"])
            for r in drift_rows(cfg, Fitter(0), cur, ref) if r.feature == column}


def test_codes_declared_categorical_are_judged_by_their_shares() -> None:
    as_numbers = MonitorConfig(name="mon", model="m", features=["product"])
    as_codes = MonitorConfig(name="mon", model="m", features=["product"],
                             categorical=["product"])
    near, far = shares(0.12, 1, 2), shares(0.04, 1, 20)  # 12 points next door, 4 far off
    assert flagged(as_numbers, near) == {"emd": False}  # one code apart: nothing
    assert flagged(as_numbers, far) == {"emd": True}  # nineteen codes apart: "drift"
    assert flagged(as_codes, near) == {"linf": True}
    assert flagged(as_codes, far) == {"linf": False}  # 4 → 8 %: under the floor


def test_a_new_code_is_a_new_category_not_a_value_out_of_range() -> None:
    cfg = MonitorConfig(name="mon", model="m", features=["product"], categorical=["product"])
    rng = np.random.default_rng(5)
    ref = Frame(np.arange(4000).astype("datetime64[ms]"),
                {"product": rng.choice(CODES, size=4000)})
    now = rng.choice(CODES, size=1000)
    now[:100] = 21.0  # a product launched today: 10 % of the window
    now[100:110] = np.nan
    cur, ref, extra = align(Frame(np.arange(1000).astype("datetime64[ms]"),
                                  {"product": now}), ref, cfg)
    assert cur.columns["product"][0] == "21" and cur.columns["product"][100] is None
    got = {r.metric: r.bad for r in quality_rows(cfg, cur, ref, [4000] * 12, extra)
           if r.feature == "product"}
    assert got["new_categories"] is True and got["missing_rate"] is False
    assert "out_of_range" not in got and "stuck_value" not in got


def test_a_multiclass_prediction_is_a_category_a_binary_one_stays_a_share() -> None:
    perf = {"task": "classification", "prediction": "cls"}
    cfg = MonitorConfig(name="mon", model="m", outputs=["cls"], performance=perf)
    assert flagged(cfg, shares(0.12, 1, 2), column="output:cls") == {"linf": True}
    plain = MonitorConfig(name="mon", model="m", outputs=["cls"])
    assert flagged(plain, shares(0.12, 1, 2), column="output:cls") == {"emd": False}
    rng = np.random.default_rng(0)
    two = Frame(np.arange(100).astype("datetime64[ms]"),
                {"output:cls": rng.integers(0, 2, 100).astype(float)})
    cur, _, _ = align(two, two, cfg)
    assert cur.columns["output:cls"].dtype.kind == "f"  # 0/1: EMD is the share's change


@pytest.mark.parametrize(("extra", "message"), [
    ({"categorical": ["zip"]}, "categorical: 'zip' is neither a feature nor an output"),
    ({"categorical": ["x"], "projections": [{"name": "p", "kind": "mean",
                                             "features": ["x", "y"]}]},
     "categorical: 'x' is a feature of projection 'p'"),
    ({"categorical": ["y_hat"], "outputs": ["y_hat"],
      "performance": {"task": "regression", "prediction": "y_hat"}},
     "categorical: output 'y_hat' is the performance prediction of a regression model"),
])
def test_a_name_that_cannot_be_codes_is_refused(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MonitorConfig.model_validate({"name": "mon", "model": "m", "features": ["x", "y"],
                                      **extra})


T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = timedelta(minutes=10)


def test_codes_sent_as_numbers_are_judged_as_categories_end_to_end(store: Store) -> None:
    """Through the store: products sent as integers, a product launched in window 14 is a
    new category (not out of range), and the share moved to it is L-inf drift."""
    def stream(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        codes = rng.choice(CODES, size=n)
        if i >= 14:
            codes[: n // 5] = 21.0
        return {"product": codes}

    write_windows(store, "m", T0, W, 16, 400, stream, closed=False)
    for i in range(16):
        close_window(store, T0 + i * W, W, 400)
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["product"],
                      "categorical": ["product"]}],
        "alerts": {"console": False}})
    Monitor(store, cfg).run_once()
    D = S.DRIFT_RESULTS
    rows = store.query(f"SELECT {D.window_start}, {D.metric}, {D.drifted} FROM {D} FINAL "
                       f"WHERE {D.feature} = 'product' AND {D.segment} = '*' ORDER BY 1, 2")
    bad = {(w.replace(tzinfo=UTC), m) for w, m, d in rows if d}
    metrics = {m for _, m, _ in rows}
    assert "linf" in metrics and "emd" not in metrics and "out_of_range" not in metrics
    assert {(T0 + 14 * W, "new_categories"), (T0 + 14 * W, "linf")} <= bad
    assert not {w for w, _ in bad if w < T0 + 14 * W}
