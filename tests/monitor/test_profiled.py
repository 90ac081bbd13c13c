"""A model logged only as whylogs profiles (``logging: [profile]``): the monitor reads each
window's merged profile and scores the same per-column checks as on its events."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from driftscope.collector.profiling import merge_profiles
from driftscope.config import Config
from driftscope.monitor.profiled import OTHER, expand
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import profile_part, write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D = S.DRIFT_RESULTS


def monitor(name: str, model: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "model": model, "features": ["x", "plan"], "outputs": ["pred"],
            "reference": {"kind": "previous", "windows": 3}, **extra}


def config(**extra: Any) -> Config:
    """Model ``r`` logged raw, ``p`` only as profiles, one monitor each, the same checks."""
    return Config.model_validate({
        "models": [{"id": "r", "window": "10m", "logging": ["raw"]},
                   {"id": "p", "window": "10m", "logging": ["profile"]}],
        "monitors": [monitor("raw", "r", **extra), monitor("prof", "p", **extra)],
        "alerts": {"console": False}})


def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    x = rng.normal(1.0 if i >= 12 else 0.0, 1, n)
    x[rng.uniform(size=n) < 0.02] = np.nan
    plan = rng.choice(np.array(["a", "b", "c"], dtype=object), n,
                      p=[0.2, 0.3, 0.5] if i >= 13 else [0.5, 0.3, 0.2])
    return {"x": x, "plan": plan, "output:pred": rng.uniform(size=n)}


def both(store: Store, n: int) -> dict[str, list[Any]]:
    """The same 15 windows written as raw events of ``r`` and profiles of ``p``; each
    monitor's verdicts."""
    write_windows(store, "r", T0, W, 15, n, gen, seed=4)
    write_windows(store, "p", T0, W, 15, n, gen, seed=4, profiled=True)
    assert store.count(S.EVENTS, "model_id = 'p'") == 0
    verdicts = Monitor(store, config()).run_once()
    return {m: [v for v in verdicts if v.monitor == m] for m in ("raw", "prof")}


def statistics(store: Store, monitor: str) -> dict[tuple[Any, ...], float]:
    rows = store.query(f"SELECT {D.window_start}, {D.feature}, {D.metric}, {D.statistic}, "
                       f"{D.n_cur} FROM {D} WHERE {D.monitor} = {{m:String}} "
                       f"AND {D.metric} IN ('emd', 'linf')", {"m": monitor})
    return {(r[0], r[1], r[2], r[4]): r[3] for r in rows}


def test_a_window_the_sketches_hold_whole_is_read_back_exactly() -> None:
    rng = np.random.default_rng(1)
    cols = gen(0, rng, 900)
    cols["x"][:7] = np.nan
    view = merge_profiles([profile_part(cols)])
    got = expand(view, 900, ["x", "plan", "output:pred", "absent"])
    x = cols["x"]
    assert np.array_equal(np.sort(got["x"][~np.isnan(got["x"])]), np.sort(x[~np.isnan(x)]))
    assert np.isnan(got["x"]).sum() == np.isnan(x).sum()
    assert Counter(got["plan"].tolist()) == Counter(cols["plan"].tolist())
    assert np.allclose(np.sort(got["output:pred"]), np.sort(cols["output:pred"]))
    assert np.isnan(got["absent"]).all()
    # shuffled, each column on its own: no row pairs the sorted values of two columns
    assert not np.array_equal(np.argsort(got["x"]), np.argsort(got["output:pred"]))


def test_a_large_window_is_read_back_within_the_sketch_rank_error() -> None:
    rng = np.random.default_rng(2)
    x = rng.lognormal(size=50_000)
    plan = rng.choice(np.array([f"c{i}" for i in range(3000)], dtype=object), 50_000)
    view = merge_profiles([profile_part({"x": x[:20_000], "plan": plan[:20_000]}),
                           profile_part({"x": x[20_000:], "plan": plan[20_000:]})])
    got = expand(view, 50_000, ["x", "plan"])
    grid = np.quantile(x, np.linspace(0, 1, 501))
    ecdf = lambda v: np.searchsorted(np.sort(v), grid, side="right") / len(v)  # noqa: E731
    assert np.max(np.abs(ecdf(got["x"]) - ecdf(x))) < 0.0036  # KLL k=1024: ±0.35 % (99 %)
    assert got["x"].min() == x.min() and got["x"].max() == x.max()
    # 3,000 categories: more than the frequent-items sketch tracks one by one; the rest is
    # one category, and each count is within the sketch's error (ε = 0.0034 of the total)
    counts = Counter(got["plan"].tolist())
    assert sum(counts.values()) == 50_000 and counts[OTHER] > 0
    true = Counter(plan.tolist())
    assert all(abs(c - true[k]) <= 50_000 * 0.0035 for k, c in counts.items() if k != OTHER)


def test_a_profile_only_model_gets_the_same_statistics_as_its_events(store: Store) -> None:
    out = both(store, 1000)  # up to 1,024 values the sketches hold every value
    raw, prof = out["raw"], out["prof"]
    assert [v.n_events for v in prof] == [v.n_events for v in raw] == [1000] * 15
    r, p = statistics(store, "raw"), statistics(store, "prof")
    assert set(r) == set(p) and len(r) == 14 * 3  # x, plan, pred from window 1 on
    assert max(abs(r[k] - p[k]) for k in r) < 1e-9
    # found where the events find it: x from window 12, plan from 13; nothing before
    assert not any(v.findings for v in prof[:12])
    assert [sorted({f.feature for f in v.findings}) for v in prof[12:]] == \
        [sorted({f.feature for f in v.findings}) for v in raw[12:]]
    assert {f.feature for f in prof[13].findings} == {"x", "plan"}


def test_a_busier_profile_only_model_stays_within_the_sketch_error(store: Store) -> None:
    out = both(store, 5000)
    r, p = statistics(store, "raw"), statistics(store, "prof")
    assert set(r) == set(p)
    emd = [abs(r[k] - p[k]) for k in r if k[2] == "emd"]
    linf = [abs(r[k] - p[k]) for k in r if k[2] == "linf"]
    # the KLL rank error moves EMD by about 0.001 here, against thresholds near 0.03
    assert max(emd) < 0.005 and max(linf) < 1e-9  # 3 categories: counted exactly
    for side in ("raw", "prof"):  # the drift found; before it at most a chance finding
        assert all(v.drifted for v in out[side][12:])
        assert sum(v.drifted for v in out[side][:12]) <= 1


def test_a_profile_only_model_pass_by_pass_finds_a_volume_drop(store: Store) -> None:
    cfg = config()
    for i in range(16):  # `driftscope monitor`: a pass as each window closes
        n = 100 if i == 15 else 2000
        write_windows(store, "p", T0 + i * W, W, 1, n, gen, seed=i, profiled=True)
        verdicts = Monitor(store, cfg).run_once()
    (v,) = verdicts
    assert v.n_events == 100 and [f.metric for f in v.findings] == ["volume"]


@pytest.mark.parametrize(("extra", "named"), [
    ({"segments": ["country"]}, "segments ['country']"),
    ({"performance": {"task": "classification", "prediction": "pred"}}, "performance"),
    ({"projections": [{"name": "all", "features": ["x", "y"]}]}, "projection 'all'"),
    ({"detectors": [{"name": "mmd"}]}, "detector 'mmd'"),
])
def test_what_needs_the_events_is_a_configuration_error(extra: dict[str, Any],
                                                         named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(
            f"monitor 'prof': model 'p' logs only profiles, which keep each column's "
            f"distribution but not the events; {named} need the events")):
        config(**extra)


def test_categories_the_sketch_lumps_are_compared_on_common_ground(store: Store) -> None:
    # 2,000 categories (Zipf): more than the frequent-items sketch tracks one by one, so
    # each window comes back as its frequent items plus "(other)"; the uploaded reference
    # holds every category. The reference's untracked ones are lumped the same way: no
    # new category and no drift where nothing changed.
    import pandas as pd

    from driftscope.monitor.upload import upload

    cities = np.array([f"c{i}" for i in range(2000)], dtype=object)
    p = 1 / np.arange(1, 2001) ** 0.9
    p /= p.sum()

    def city(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"city": rng.choice(cities, n, p=p)}

    upload(store, "p", "train", pd.DataFrame(city(0, np.random.default_rng(7), 20_000)))
    write_windows(store, "p", T0, W, 6, 5000, city, seed=3, profiled=True)
    cfg = Config.model_validate({
        "models": [{"id": "p", "window": "10m", "logging": ["profile"]}],
        "monitors": [{"name": "prof", "model": "p", "features": ["city"],
                      "reference": {"kind": "dataset", "dataset": "train"}}],
        "alerts": {"console": False}})
    verdicts = Monitor(store, cfg).run_once()
    assert len(verdicts) == 6 and not any(v.findings for v in verdicts)
    (lumped,), = store.query(f"SELECT max({D.statistic}) FROM {D} "
                             f"WHERE {D.metric} = 'new_categories'")
    assert lumped < 0.02

    def new_city(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"city": np.where(rng.uniform(size=n) < 0.2, "zz", rng.choice(cities, n, p=p))}

    # small windows after big ones (a night): the sketches now hold every item they saw,
    # against the same cached reference
    write_windows(store, "p", T0 + 6 * W, W, 2, 300, city, seed=5, profiled=True)
    night = Monitor(store, cfg).run_once()
    assert len(night) == 2 and not any(v.findings for v in night)
    # a category rare in the reference (c1500: 0.02 %) that surges to 20 %
    def surge(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"city": np.where(rng.uniform(size=n) < 0.2, "c1500",
                                 rng.choice(cities, n, p=p))}

    write_windows(store, "p", T0 + 8 * W, W, 1, 5000, surge, seed=6, profiled=True)
    (grown,) = Monitor(store, cfg).run_once()
    assert [(f.metric, f.feature) for f in grown.findings] == [("linf", "city")]

    write_windows(store, "p", T0 + 9 * W, W, 2, 5000, new_city, seed=4, profiled=True)
    later = Monitor(store, cfg).run_once()
    # a new category as frequent as that is named, not lumped
    assert [sorted((f.metric, f.feature) for f in v.findings) for v in later] == \
        [[("linf", "city"), ("new_categories", "city")]] * 2
    (named,), = store.query(f"SELECT {D.details} FROM {D} WHERE {D.metric} = 'new_categories' "
                            f"ORDER BY {D.window_start} DESC LIMIT 1")
    assert '"new": ["zz"' in named


def test_the_joint_detectors_named_in_the_configuration_are_the_registry_s() -> None:
    from driftscope.config import MULTIVARIATE
    from driftscope.detectors import registry

    joint = {name for name in registry.DETECTORS.names()
             if getattr(registry.DETECTORS.cls(name), "input_kind", "") == "multivariate"}
    assert joint == MULTIVARIATE


def test_events_with_a_category_named_like_the_lump_are_left_alone() -> None:
    from driftscope.monitor.evaluate import align
    from driftscope.monitor.frame import Frame

    ref = np.array(["(other)", "a"] * 50, dtype=object)
    cur = np.array(["(other)"] * 40 + [f"new{i}" for i in range(60)], dtype=object)
    ts = np.array([0] * 100, dtype="datetime64[ms]")
    c, r, _ = align(Frame(ts, {"plan": cur}), Frame(ts, {"plan": ref}))
    assert np.array_equal(c.columns["plan"], cur) and np.array_equal(r.columns["plan"], ref)
