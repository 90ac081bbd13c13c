"""The EMD's permutation null for small references (fewer than PERMUTED_BELOW values):
the reference pooled with the window and split at random."""

from __future__ import annotations

import numpy as np
import pytest

from driftscope.detectors import emd
from driftscope.detectors.emd import (
    EMD,
    PERMUTED_BELOW,
    SPLIT_SEED,
    refreshed_count,
    split_distances,
    split_draw,
    window_hash,
)
from driftscope.detectors.significance import Permutation, p_value_from_null


def _explicit(fitted: emd.FittedEMD, cur: np.ndarray, n: int) -> np.ndarray:
    """The statistics of the same splits, each side taken apart, sorted and compared by
    the detector's own ``_between`` (winsorised there)."""
    obs, miss = fitted._prepare(cur)
    pooled = np.sort(np.concatenate([fitted.ref_sorted, obs]))
    n_ref = fitted._reference_size()
    total = len(pooled) + fitted.ref_missing + miss
    mark = window_hash(obs, miss)
    rng = np.random.default_rng([SPLIT_SEED, n_ref, total, mark % emd.SPLIT_DRAWS, 0])
    labels = rng.permuted(np.tile(np.arange(total) < n_ref, (n, 1)), axis=1)
    k = refreshed_count(len(pooled)) if fitted.heavy_tailed else 0
    fresh = np.random.default_rng([SPLIT_SEED, n_ref, total, mark])
    if k:  # each end's sides turned round by an offset of the window's own
        for end in (slice(0, k), slice(len(pooled) - k, len(pooled))):
            for row, s in zip(labels, fresh.integers(0, k, size=n), strict=True):
                row[end] = np.roll(row[end], -s)
    out = []
    for row in labels:
        side, miss_a = row[: len(pooled)], int(row[len(pooled):].sum())
        stat, _, moved = fitted._between(pooled[side], miss_a, pooled[~side],
                                         fitted.ref_missing + miss - miss_a)
        out.append(stat if len(fitted.ref_sorted) else moved)  # no values: the rate alone
    return np.array(out)


def _draw(rng: np.random.Generator, k: int, shape: str) -> np.ndarray:
    x = np.round(np.exp(2 * rng.normal(size=k)), int(rng.integers(0, 3)))  # ties
    if shape == "low atom":  # zero-inflated: the low end is not clipped
        x[rng.random(k) < 0.3] = 0.0
    elif shape == "high atom":  # capped: the high end is not clipped
        x = np.minimum(x, np.quantile(x, 0.7))
    x[rng.random(k) < float(rng.choice([0.0, 0.1, 0.9]))] = np.nan
    return x


def test_split_statistics_equal_each_split_compared_apart() -> None:
    rng = np.random.default_rng(0)
    seen = set()
    for i in range(160):
        n, m = int(rng.integers(1, 300)), int(rng.integers(1, 300))
        trim = float(rng.choice([0.0, 0.01, 0.05, 0.1]))
        shape = ("plain", "low atom", "high atom")[i % 3]
        ref, cur = _draw(rng, n, shape), _draw(rng, m, shape)
        fitted = EMD(trim=trim).fit(ref, rng=rng)
        seen.add(fitted.ends if fitted.trim else None)
        got = fitted._split_statistics(fitted._prepare(cur), 7)
        np.testing.assert_allclose(got, _explicit(fitted, cur, 7), rtol=1e-9, atol=1e-12)
    assert seen == {None, (True, True), (False, True), (True, False)}


def test_split_statistics_of_sides_with_one_value_or_none() -> None:
    rng = np.random.default_rng(1)
    for ref, cur in [([1.0], [2.0]), ([np.nan, 3.0], [np.nan]), ([np.nan], [np.nan, 1.0]),
                     ([5.0, np.nan, np.nan], [5.0, 7.0]), ([1.0, 2.0, 3.0], [9.0])]:
        fitted = EMD().fit(np.array(ref), rng=rng)
        got = fitted._split_statistics(fitted._prepare(np.array(cur)), 9)
        np.testing.assert_allclose(got, _explicit(fitted, np.array(cur), 9), atol=1e-12)


def test_splits_depend_on_the_sizes_only_and_are_shared() -> None:
    a = list(split_distances(300, 1300, 1290, 50, 0.01, (True, True)))
    b = list(split_distances(300, 1300, 1290, 50, 0.01, (True, True)))
    assert a[0][0] is b[0][0]  # kept
    assert not a[0][0].flags.writeable and not a[0][1].flags.writeable
    other = list(split_distances(300, 1300, 1290, 50, 0.01, (True, True), draw=1))
    assert not np.array_equal(a[0][0], other[0][0])  # another draw of the same sizes
    big = list(split_distances(300, 20_000, 20_000, 200, 0.01, (True, True)))  # in blocks
    assert sum(len(d[0]) for d in big) == 200 and len(big) > 1
    again = next(split_distances(300, 20_000, 20_000, 200, 0.01, (True, True)))
    assert again[0] is not big[0][0]  # too big to keep


@pytest.mark.parametrize("values", [
    lambda rng: rng.normal(size=50),
    lambda rng: rng.poisson(3.0, size=50).astype(float),  # whole numbers
    lambda rng: (rng.random(50) < 0.1).astype(float),  # a rare flag
])
def test_windows_of_one_size_spread_over_the_draws(values) -> None:
    draws = [split_draw(values(np.random.default_rng(i)), 0) for i in range(400)]
    assert np.bincount(draws, minlength=4).min() >= 50  # about 100 each
    x = values(np.random.default_rng(0))
    assert split_draw(x, 0) == split_draw(x.copy(), 0)  # deterministic


def test_the_kept_splits_stay_within_their_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emd, "SPLIT_CACHE_BYTES", 2**20)
    emd.clear_split_cache()
    for total in range(201, 1201):  # a sliding reference's sizes keep changing
        list(split_distances(200, total, total - 200 + 1, 50, 0.01, (True, True)))
        list(split_distances(200, total, 1, 50, 0.01, (True, True)))  # one value observed
    held = sum(a.nbytes for kept in emd._split_cache.values() for a in kept)
    assert held <= 2**20 and len(emd._split_cache) < 2_000  # the first ones went,
    assert (200, 201, 1, 0, 0, 50, 0.01, (True, True), 0) not in emd._split_cache  # empty too
    emd.clear_split_cache()
    assert not emd._split_cache and emd._split_held == 0


def _p_values(law, n: int, sizes: range, refs: int, windows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = []
    for r in range(refs):
        fitted = EMD().fit(law(rng, n), rng=np.random.default_rng([seed, r]))
        for _ in range(windows):  # window sizes vary, as a stream's do: many split draws
            out.append(fitted.score(law(rng, int(rng.choice(sizes)))).p_value)
    return np.array(out)


def _lognormal(rng: np.random.Generator, k: int) -> np.ndarray:
    return np.exp(2.0 * rng.normal(size=k))


def test_small_reference_of_a_skewed_feature_no_longer_cries_wolf(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """200 reference rows of a lognormal σ = 2 feature, windows of about 1,000, no drift
    (300 references, 3 windows each: a reference's p-values go together): the bootstrap
    null (200 resamples of 200 values) gave p <= 0.001, what Benjamini–Hochberg needs
    across ten features, 24 times too often (22 of 900); the permutation null 1 of 900
    (seeds 1-3: 1-3 of 900 against 14-22; p <= 0.01: 9-16 against 32-40)."""
    sizes = range(900, 1100)
    permuted = _p_values(_lognormal, 200, sizes, 300, 3, 1)
    assert np.mean(permuted <= 0.01) <= 0.025
    assert np.mean(permuted <= 0.001) <= 0.008
    monkeypatch.setattr(emd, "PERMUTED_BELOW", 0)  # the bootstrap null, as before
    monkeypatch.setattr(emd.FittedEMD, "_confirming_null", lambda self, pol, prepared: None)
    boot = _p_values(_lognormal, 200, sizes, 300, 3, 1)
    assert np.mean(boot <= 0.001) > 3 * max(np.mean(permuted <= 0.001), 1 / 900)


def test_a_skewed_window_over_the_bootstrap_is_confirmed_by_its_permutation_null(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """2,400 reference values of a lognormal σ = 2 feature (the default sliding reference
    at windows of 200), windows of 180-220, no drift (450 references, 10 windows each):
    the bootstrap null's exponential tail gives p <= 0.001 — what Benjamini–Hochberg needs
    across ten features — two to four times too often (seeds 1-3: 4-6 of 1,500); confirmed
    by the window's own permutation null (only the windows the bootstrap puts under 0.01
    draw it), near its level (1-3 of 1,500)."""
    sizes = range(180, 220)
    confirmed = _p_values(_lognormal, 2_400, sizes, 450, 10, 1)
    assert np.mean(confirmed <= 0.001) <= 0.0025
    assert np.mean(confirmed <= 0.01) <= 0.012
    monkeypatch.setattr(emd.FittedEMD, "_confirming_null", lambda self, pol, prepared: None)
    boot = _p_values(_lognormal, 2_400, sizes, 450, 10, 1)
    assert np.sum(boot <= 0.001) > np.sum(confirmed <= 0.001)  # (10 against 5 of 4,500)
    assert np.sum(boot <= 0.01) > 1.25 * np.sum(confirmed <= 0.01)  # (48 against 32)


def test_permutation_p_values_are_uniform_and_a_shift_is_found() -> None:
    normal = lambda rng, k: rng.normal(size=k)  # noqa: E731
    p = _p_values(normal, 500, range(480, 520), 60, 5, 2)  # (seeds 1-8: mean 0.45-0.53,
    assert 0.42 < np.mean(p) < 0.58  # p <= 0.1 in 7-13 %, p <= 0.01 in 0.3-1.7 %)
    assert np.mean(p <= 0.1) < 0.16 and np.mean(p <= 0.01) < 0.03
    rng = np.random.default_rng(3)
    fitted = EMD().fit(_lognormal(rng, 500), rng=rng)
    moved = np.exp(2.0 * (rng.normal(size=500) + 0.4))  # the normal score moved 0.4 SD
    s = fitted.score(moved)
    assert s.drifted and s.p_value is not None and s.p_value <= 0.01


def test_only_small_references_are_permuted_and_null_at_gives_the_null_used() -> None:
    rng = np.random.default_rng(4)
    small = EMD().fit(_lognormal(rng, PERMUTED_BELOW - 1), rng=rng)
    large = EMD().fit(_lognormal(rng, PERMUTED_BELOW), rng=rng)
    cur = _lognormal(rng, 700)
    s = small.score(cur)
    null = small.null_at(cur)
    assert null is not None and not small._cache  # no bootstrap null was drawn
    assert s.threshold == float(np.quantile(null, 0.99, method="higher"))
    np.testing.assert_array_equal(null, np.sort(small._split_statistics(small._prepare(cur),
                                                                        200)))
    large.score(cur)
    assert set(large._cache) == {700}  # the reference's bootstrap null at the window's size


def test_a_heavy_tailed_features_permutation_p_values_take_the_shaped_tail() -> None:
    """The p-value the monitor reads (``null_p_value``, also under a sketch allowance) is
    the score's: off a shaped tail for a heavy-tailed feature's permutation null, off the
    exponential for a normal one's and for any bootstrap null."""
    rng = np.random.default_rng(5)
    for ref, cur, shaped in [(_lognormal(rng, 800), np.exp(2 * rng.normal(size=200) + 1.5), True),
                             (rng.normal(size=800), rng.normal(size=200) + 0.4, False),
                             (rng.normal(size=3000), rng.normal(size=200) + 0.4, False)]:
        fitted = EMD().fit(ref, rng=rng)
        s = fitted.score(cur)
        assert fitted.shaped_tail is shaped and s.p_value is not None and s.p_value < 0.05
        null = fitted.null_at(cur)
        assert s.p_value == p_value_from_null(s.statistic, null, shaped=shaped)
        assert fitted.null_p_value(s.statistic, cur) == s.p_value
        if shaped:  # (the shaped tail moved it: the test can tell the two apart)
            assert s.p_value != p_value_from_null(s.statistic, null)


def test_a_large_reference_confirms_only_the_windows_its_bootstrap_flags() -> None:
    rng = np.random.default_rng(6)
    ref = _lognormal(rng, 3_000)
    large = EMD().fit(ref, rng=rng)
    quiet = large.score(_lognormal(rng, 250))  # (p = 0.17 from the bootstrap)
    assert "null" not in quiet.details and quiet.threshold == large._cache[250][1]
    moved = _lognormal(rng, 250) * 3.0
    s = large.score(moved)
    assert s.details["null"] == "permutation" and s.drifted
    own = large.null_at(moved, confirmed=True)
    assert own is not None
    np.testing.assert_array_equal(own, np.sort(np.maximum(
        large._split_statistics(large._prepare(moved), 200), 0.0)))
    assert s.threshold == float(np.quantile(own, 0.99, method="higher"))
    assert s.threshold != large._cache[250][1]  # not the bootstrap's
    assert s.p_value == p_value_from_null(s.statistic, own, shaped=True)
    assert large.null_p_value(s.statistic, moved, confirmed=True) == s.p_value  # the monitor's
    # a feature without heavy tails: its bootstrap null decides, as it is right there
    normal = EMD().fit(rng.normal(size=3_000), rng=rng)
    assert not normal.heavy_tailed and large.heavy_tailed
    shifted = normal.score(rng.normal(size=250) + 1.0)
    assert shifted.drifted and "null" not in shifted.details
    # a feature mostly zeros with rare amounts (no interquartile range) is heavy-tailed;
    # a constant one is not
    rare = np.where(rng.random(3_000) < 0.005, _lognormal(rng, 3_000), 0.0)
    assert EMD().fit(rare, rng=rng).heavy_tailed
    assert not EMD().fit(np.zeros(3_000), rng=rng).heavy_tailed


def test_permutation_policy_uses_the_same_splits() -> None:
    rng = np.random.default_rng(5)
    ref, cur = _lognormal(rng, 300), _lognormal(rng, 300) * 1.5
    s = EMD(Permutation(n=99, alpha=0.05)).fit(ref, rng=rng).score(cur)
    fitted = EMD().fit(ref, rng=rng)
    perm = fitted._split_statistics(fitted._prepare(cur), 99)
    assert s.p_value == pytest.approx((np.sum(perm >= s.statistic) + 1) / 100)


@pytest.mark.parametrize("unit", [1e-3, 1.0, 1e3])
def test_values_where_the_reference_had_none_are_drift_in_any_unit(unit: float) -> None:
    """A feature never observed in a small reference (all missing) and present in every
    event now: it and its splits are compared on the missing rate alone, so the values'
    unit does not decide (the splits' distances, divided by 1, hid values in thousands)."""
    fitted = EMD().fit(np.full(300, np.nan), rng=np.random.default_rng(0))
    for seed in range(5):
        score = fitted.score(unit * np.random.default_rng(seed).lognormal(size=60))
        assert score.drifted and score.p_value < 0.01
    assert not fitted.score(np.full(60, np.nan)).drifted



def test_windows_of_one_size_draw_their_extremes_sides_afresh() -> None:
    """On a heavy-tailed feature a split's statistic is mostly its extremes' sides. Kept
    splits are shared by every window of a size (a few draws), so each window turns the
    sides of its pooled extremes round by offsets of its own: how many splits put the
    largest value on the window's side varies from window to window (about
    binomial(200, 1/4) here), not over a handful of kept draws."""
    fitted = EMD(trim=0.0).fit(np.r_[np.zeros(299), 1.0], rng=np.random.default_rng(0))
    counts = []
    for seed in range(40):  # windows of one size: 100 values just above 0
        cur = np.random.default_rng(seed).random(100) * 1e-9
        stats = fitted._split_statistics(fitted._prepare(cur), 200) * fitted.scale
        # the largest value on the reference's side gives about 1/300, on the window's 1/100
        counts.append(int(np.sum(stats > (1 / 300 + 1 / 100) / 2)))
    assert len(set(counts)) > 2 * emd.SPLIT_DRAWS
    assert abs(np.mean(counts) - 50) < 5
