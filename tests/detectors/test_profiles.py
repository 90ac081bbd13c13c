"""Drift from whylogs profiles: within the stated bound of the exact value, deterministic."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from driftscope.detectors import profiles
from driftscope.detectors.binning import categorical_counts, numeric_counts

why = pytest.importorskip("whylogs")
pd = pytest.importorskip("pandas")

N_REF, N_CUR = 60_000, 40_000


def _frames() -> tuple:
    rng = np.random.default_rng(0)
    x_ref = rng.gamma(2.0, 1.0, N_REF)
    x_ref[rng.random(N_REF) < 0.02] = np.nan
    x_cur = rng.gamma(2.3, 1.1, N_CUR)
    x_cur[rng.random(N_CUR) < 0.06] = np.nan
    zipf_ref = rng.zipf(1.3, N_REF) % 5000
    zipf_cur = (rng.zipf(1.25, N_CUR) + 3) % 5000
    c_ref = np.array([f"k{v}" for v in zipf_ref], dtype=object)
    c_cur = np.array([f"k{v}" for v in zipf_cur], dtype=object)
    c_cur[:500] = None
    ref = pd.DataFrame({"x": x_ref, "c": c_ref})
    cur = pd.DataFrame({"x": x_cur, "c": c_cur})
    return ref, cur


@pytest.fixture(scope="module")
def data() -> dict:
    ref, cur = _frames()
    return {
        "ref": ref,
        "cur": cur,
        "ref_view": why.log(ref).view(),
        "cur_view": why.log(cur).view(),
    }


def _sketches(data: dict, col: str) -> tuple[dict, dict]:
    return (
        profiles.column_sketches(data["ref_view"].get_column(col)),
        profiles.column_sketches(data["cur_view"].get_column(col)),
    )


def test_missing_counts_come_from_the_profile(data: dict) -> None:
    r, c = _sketches(data, "x")
    assert r["missing"] == int(data["ref"]["x"].isna().sum())
    assert c["missing"] == int(data["cur"]["x"].isna().sum())


@pytest.mark.parametrize("which", ["linf", "l1"])
def test_numeric_histogram_distance_within_bound(data: dict, which: str) -> None:
    r, c = _sketches(data, "x")
    fn = profiles.linf_numeric if which == "linf" else profiles.l1_numeric
    est = fn(r["kll"], c["kll"], r["missing"], c["missing"])
    edges = np.asarray(est.details["edges"])
    p = numeric_counts(data["ref"]["x"].to_numpy(), edges)
    q = numeric_counts(data["cur"]["x"].to_numpy(), edges)
    d = np.abs(p / p.sum() - q / q.sum())
    exact = d.max() if which == "linf" else d.sum()
    assert abs(est.value - exact) <= est.error_bound
    assert est.error_bound < 0.1 if which == "linf" else est.error_bound < 0.3
    assert exact > est.error_bound  # the drift is larger than the uncertainty


def test_emd_within_bound(data: dict) -> None:
    r, c = _sketches(data, "x")
    est = profiles.emd_numeric(r["kll"], c["kll"], r["missing"], c["missing"])
    x_ref, x_cur = data["ref"]["x"].to_numpy(), data["cur"]["x"].to_numpy()
    w = stats.wasserstein_distance(x_ref[~np.isnan(x_ref)], x_cur[~np.isnan(x_cur)])
    dm = abs(np.isnan(x_ref).mean() - np.isnan(x_cur).mean())
    exact = w / est.details["scale"] + dm
    assert abs(est.value - exact) <= est.error_bound
    assert est.error_bound < 0.25 * exact  # rank error × value range: conservative on tails
    q1, q3 = np.nanquantile(x_ref, [0.25, 0.75])
    assert est.details["scale"] == pytest.approx(q3 - q1, rel=0.02)


@pytest.mark.parametrize("which", ["linf", "l1"])
def test_categorical_distance_within_bound(data: dict, which: str) -> None:
    r, c = _sketches(data, "c")
    fn = profiles.linf_categorical if which == "linf" else profiles.l1_categorical
    est = fn(r["frequent"], c["frequent"], r["missing"], c["missing"])
    cats = np.asarray(est.details["categories"], dtype=str)

    def counts(col: object) -> np.ndarray:
        arr = np.asarray(col, dtype=object)
        miss = np.array([v is None for v in arr])
        return categorical_counts(arr[~miss].astype(str), int(miss.sum()), cats)

    p, q = counts(data["ref"]["c"]), counts(data["cur"]["c"])
    d = np.abs(p / p.sum() - q / q.sum())
    exact = d.max() if which == "linf" else d.sum()
    assert abs(est.value - exact) <= est.error_bound
    assert est.error_bound > 0  # the sketch is in its approximate regime here


def test_exact_when_the_frequent_items_sketch_is_exact() -> None:
    ref = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 30 + [None] * 20})
    cur = pd.DataFrame({"c": ["a"] * 10 + ["b"] * 60 + ["z"] * 30})
    r = profiles.column_sketches(why.log(ref).view().get_column("c"))
    c = profiles.column_sketches(why.log(cur).view().get_column("c"))
    est = profiles.linf_categorical(r["frequent"], c["frequent"], r["missing"], c["missing"])
    assert est.error_bound == 0.0
    assert est.value == pytest.approx(0.4)  # a: .5 → .1


def test_same_profiles_same_value(data: dict) -> None:
    r, c = _sketches(data, "x")
    first = profiles.emd_numeric(r["kll"], c["kll"], r["missing"], c["missing"])
    kll_type = type(r["kll"])
    r2 = kll_type.deserialize(r["kll"].serialize())
    c2 = kll_type.deserialize(c["kll"].serialize())
    again = profiles.emd_numeric(r2, c2, r["missing"], c["missing"])
    assert (first.value, first.error_bound) == (again.value, again.error_bound)


def test_estimate_to_score() -> None:
    est = profiles.ProfileEstimate(0.2, 0.05)
    s = est.score(0.1)
    assert s.drifted and s.details["error_bound"] == 0.05
    assert not profiles.ProfileEstimate(0.12, 0.05).surely_drifted(0.1)


def test_profile_histogram_sees_the_rate_of_a_flag() -> None:
    """The sketch's deciles of a 0/1 flag at 5 % are all 0: the zeros get a bin of their
    own (before, 0 and 1 shared one bin and the flag at 90 % measured 0)."""
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"f": (rng.random(20_000) < 0.05).astype(float)})
    cur = pd.DataFrame({"f": (rng.random(5_000) < 0.90).astype(float)})
    r = profiles.column_sketches(why.log(ref).view().get_column("f"))
    c = profiles.column_sketches(why.log(cur).view().get_column("f"))
    est = profiles.linf_numeric(r["kll"], c["kll"])
    assert est.value == pytest.approx(0.85, abs=0.02)
    assert est.value - est.error_bound > 0.5
