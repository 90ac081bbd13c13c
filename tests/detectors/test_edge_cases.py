"""Edge cases: a clear result or a DetectorInputError, never a crash or a silent NaN."""

from __future__ import annotations

import numpy as np
import pytest

from driftscope.detectors import registry
from driftscope.detectors.emd import EMD
from driftscope.detectors.l1 import L1
from driftscope.detectors.linf import LInf
from driftscope.detectors.significance import Constant
from driftscope.errors import DetectorInputError
from driftscope.types import Score

UNIVARIATE = [
    n for n in registry.names() if registry.DETECTORS.cls(n).input_kind in ("numeric", "univariate")
]
BINNED = [n for n in registry.names() if registry.DETECTORS.cls(n).input_kind == "univariate"]
MULTI = [n for n in registry.names() if registry.DETECTORS.cls(n).input_kind == "multivariate"]
RNG = np.random.default_rng


def _ok(score: Score) -> None:
    assert np.isfinite(score.statistic) and score.statistic >= 0
    assert not np.isnan(score.threshold)


@pytest.mark.parametrize("name", UNIVARIATE)
def test_empty_reference_is_an_error(name: str) -> None:
    with pytest.raises(DetectorInputError, match="empty"):
        registry.get(name).fit(np.array([], dtype=float), rng=RNG(0))


@pytest.mark.parametrize("name", UNIVARIATE)
def test_one_value_each_side(name: str) -> None:
    fitted = registry.get(name).fit(np.array([1.0]), rng=RNG(0))
    _ok(fitted.score(np.array([1.0])))
    _ok(fitted.score(np.array([5.0])))


@pytest.mark.parametrize("name", UNIVARIATE)
def test_constant_column(name: str) -> None:
    fitted = registry.get(name).fit(np.full(200, 3.0), rng=RNG(0))
    same = fitted.score(np.full(50, 3.0))
    _ok(same)
    assert not same.drifted
    moved = fitted.score(np.full(50, 4.0))
    _ok(moved)
    assert moved.drifted


@pytest.mark.parametrize("name", UNIVARIATE)
def test_all_missing_column(name: str) -> None:
    fitted = registry.get(name).fit(np.full(200, np.nan), rng=RNG(0))
    same = fitted.score(np.full(50, np.nan))
    _ok(same)
    assert not same.drifted
    values = fitted.score(RNG(1).normal(size=50))
    _ok(values)
    assert values.drifted  # every value is now present: the missing rate moved by 1


@pytest.mark.parametrize("name", UNIVARIATE)
def test_missing_rate_change_is_drift(name: str) -> None:
    rng = RNG(2)
    fitted = registry.get(name).fit(rng.normal(size=3000), rng=rng)
    cur = rng.normal(size=1000)
    cur[:300] = np.nan  # same values, 30 % missing
    s = fitted.score(cur)
    _ok(s)
    assert s.drifted


@pytest.mark.parametrize("name", UNIVARIATE)
def test_infinities_count_as_missing_and_never_crash(name: str) -> None:
    fitted = registry.get(name).fit(np.array([1.0, 2.0, np.inf, 3.0, np.nan]), rng=RNG(0))
    _ok(fitted.score(np.array([-np.inf, 2.0, np.nan])))


@pytest.mark.parametrize("name", BINNED)
def test_only_unseen_categories(name: str) -> None:
    ref = np.array(["a", "b"] * 100, dtype=object)
    fitted = registry.get(name).fit(ref, rng=RNG(0))
    s = fitted.score(np.array(["x", "y", "z"] * 20, dtype=object))
    _ok(s)
    assert s.drifted


def test_unseen_bucket_values() -> None:
    ref = np.array(["a", "b"] * 100, dtype=object)
    cur = np.array(["a"] * 50 + ["new"] * 50, dtype=object)
    assert LInf(Constant(0.1)).fit(ref, rng=RNG(0)).score(cur).statistic == pytest.approx(0.5)
    assert L1(Constant(0.1)).fit(ref, rng=RNG(0)).score(cur).statistic == pytest.approx(1.0)


@pytest.mark.parametrize("name", BINNED)
def test_categorical_missing_and_nan_are_the_missing_bin(name: str) -> None:
    ref = np.array(["a", None, "b", float("nan")] * 50, dtype=object)
    fitted = registry.get(name).fit(ref, rng=RNG(0))
    s = fitted.score(np.array(["a", float("nan"), "b", None] * 10, dtype=object))
    _ok(s)
    assert s.statistic == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", MULTI)
def test_multivariate_edge_cases(name: str) -> None:
    det = registry.get(name)
    ref = RNG(0).normal(size=(40, 3))
    fitted = det.fit(ref, rng=RNG(0))
    with pytest.raises(DetectorInputError, match="columns"):
        fitted.score(np.ones((10, 2)))
    with pytest.raises(DetectorInputError, match="NaN"):
        fitted.score(np.full((10, 3), np.nan))
    with pytest.raises(DetectorInputError):
        det.fit(np.empty((0, 3)), rng=RNG(0))
    const = det.fit(np.ones((40, 3)), rng=RNG(0)).score(np.ones((20, 3)))
    _ok(const)
    assert not const.drifted


@pytest.mark.parametrize("name", MULTI)
def test_multivariate_n_equal_one(name: str) -> None:
    fitted = registry.get(name).fit(RNG(0).normal(size=(40, 3)), rng=RNG(0))
    try:
        s = fitted.score(np.zeros((1, 3)))
    except DetectorInputError as exc:
        assert "at least" in str(exc)
    else:
        _ok(s)


def test_wrong_shape_is_an_error() -> None:
    with pytest.raises(DetectorInputError, match="1-D"):
        EMD().fit(np.ones((3, 2)), rng=RNG(0))


def test_rng_must_be_a_generator() -> None:
    with pytest.raises(TypeError, match="Generator"):
        EMD().fit(np.ones(3), rng=0)  # type: ignore[arg-type]


def test_pandas_inputs_with_na() -> None:
    pd = pytest.importorskip("pandas")
    num = pd.Series([1.0, None, 3.0, 4.0] * 25, dtype="Float64")  # nullable: pd.NA
    cat = pd.Series(["a", None, "b", pd.NA] * 25, dtype="object")
    s_num = registry.get("emd").fit(num.to_numpy(), rng=RNG(0)).score(num.to_numpy())
    s_cat = registry.get("linf").fit(cat.to_numpy(), rng=RNG(0)).score(cat.to_numpy())
    assert s_num.statistic == 0.0 and s_cat.statistic == 0.0
    fitted = registry.get("linf").fit(cat.to_numpy(), rng=RNG(0))
    assert fitted.categories.tolist() == ["a", "b"]  # pd.NA is missing, not a category


def test_plain_lists_work() -> None:
    fitted = registry.get("l1").fit(["a", "b", None, "a"], rng=RNG(0))
    assert fitted.score(["a", "b", None, "a"]).statistic == 0.0
    assert registry.get("ks").fit([1.0, 2.0, 3.0], rng=RNG(0)).score([1, 2, 3]).statistic == 0


def test_emd_constant_reference_whose_value_is_not_a_binary_fraction() -> None:
    """np.std of 2,000 × 0.3 is 1.1e-16 (rounding): it was taken as the scale, and 0.31
    scored 9e13 (paged for ever); now a constant's scale is 1, as for 5.0."""
    fitted = EMD().fit(np.full(2000, 0.3), rng=RNG(0))
    score = fitted.score(np.full(100, 0.31))
    assert score.details["scale_rule"] == "none"
    assert score.statistic == pytest.approx(0.01)


def test_emd_of_huge_finite_values_is_finite() -> None:
    """Distances were multiplied by integer weights (up to n·m) before dividing: one value
    near the largest float made the statistic inf and the window lost its EMD row."""
    from driftscope.detectors.emd import wasserstein_1d

    assert wasserstein_1d(np.array([0.0, 1e306]), np.zeros(1000)) == pytest.approx(5e305)
    rng = RNG(0)
    cur = rng.normal(size=500) + 3.0
    cur[0] = np.finfo(float).max  # a sentinel: events accept any finite number
    score = EMD().fit(rng.normal(size=2000), rng=RNG(1)).score(cur)
    _ok(score)
    assert score.drifted


@pytest.mark.parametrize("name", BINNED)
def test_binned_detectors_see_the_rate_of_a_numeric_flag(name: str) -> None:
    """A 0/1 flag at 5 %: its deciles were all 0, so 0 and 1 shared one bin and a flag at
    90 % was no drift for any binned detector."""
    rng = RNG(0)
    ref = (rng.random(5000) < 0.05).astype(float)
    fitted = registry.get(name).fit(ref, rng=RNG(1))
    assert fitted.score((rng.random(1000) < 0.90).astype(float)).drifted
    assert not fitted.score((rng.random(1000) < 0.05).astype(float)).drifted


def test_a_zero_inflated_feature_keeps_its_zeros_in_a_bin_of_their_own() -> None:
    rng = RNG(0)

    def sample(n: int, zeros: float) -> np.ndarray:
        return np.where(rng.random(n) < zeros, 0.0, rng.lognormal(size=n))

    fitted = LInf().fit(sample(5000, 0.93), rng=RNG(1))
    assert fitted.score(sample(1000, 0.60)).drifted  # the zeros' share fell from 93 % to 60 %
    assert not fitted.score(sample(1000, 0.93)).drifted
    labels = [b[0] for b in fitted.score(sample(1000, 0.60)).details["top_bins"]]
    assert labels[0] == "0"


def test_bin_labels_say_which_values_a_bin_holds() -> None:
    from driftscope.detectors.binning import bin_labels, quantile_edges

    edges = quantile_edges(np.array([0.0] * 95 + [1.0] * 5), 10)
    assert bin_labels(edges, None) == ["< 0", "[0, 1)", "1", "> 1", "<missing>"]
    edges = quantile_edges(np.linspace(0, 10, 101), 2)
    assert bin_labels(edges, None) == ["< 0", "[0, 5)", "[5, 10]", "> 10", "<missing>"]


@pytest.mark.parametrize("name", BINNED)
def test_a_categorical_window_read_empty_as_float_is_all_missing(name: str) -> None:
    """pandas reads a CSV column with no value as float64 NaN: for a categorical
    detector that is a window where every value is missing (drift in the missing rate),
    not "expected categories (str), got float64" failing the whole table."""
    ref = np.array(["a", "b", "c"] * 100, dtype=object)
    fitted = registry.get(name).fit(ref, rng=RNG(0))
    score = fitted.score(np.full(200, np.nan))
    _ok(score)
    assert score.details["missing_rate_current"] == 1.0 and score.drifted


@pytest.mark.parametrize("name", ["emd", "linf", "ks"])
def test_decimal_values_are_numbers(name: str) -> None:
    """What a SQL driver returns for a NUMERIC column: `linf` took each Decimal as a
    category (every window drifted) and `emd` refused them."""
    from decimal import Decimal

    rng = RNG(0)
    ref = np.array([Decimal(f"{v:.3f}") for v in rng.normal(size=1000)], dtype=object)
    same = np.array([Decimal(f"{v:.3f}") for v in rng.normal(size=200)], dtype=object)
    score = registry.get(name).fit(ref, rng=RNG(0)).score(same)
    _ok(score)
    assert not score.drifted


def test_linear_mmd_on_a_constant_reference_has_a_consistent_p_value() -> None:
    """It said drifted with p = 1.0 (every pair alike: no spread to scale by)."""
    from driftscope.detectors.significance import PValue

    fitted = registry.get("mmd", estimator="linear", policy=PValue(0.05)).fit(
        np.ones((300, 3)), rng=RNG(0))
    moved, same = fitted.score(np.ones((100, 3)) + 0.01), fitted.score(np.ones((100, 3)))
    assert moved.drifted and moved.p_value == 0.0
    assert not same.drifted and same.p_value == 1.0
