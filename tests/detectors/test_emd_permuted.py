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
    split_distances,
    split_draw,
)
from driftscope.detectors.significance import Permutation


def _explicit(fitted: emd.FittedEMD, cur: np.ndarray, n: int) -> np.ndarray:
    """The statistics of the same splits, each side taken apart, sorted and compared by
    the detector's own ``_between`` (winsorised there)."""
    obs, miss = fitted._prepare(cur)
    pooled = np.sort(np.concatenate([fitted.ref_sorted, obs]))
    n_ref = fitted._reference_size()
    total = len(pooled) + fitted.ref_missing + miss
    rng = np.random.default_rng([SPLIT_SEED, n_ref, total, split_draw(obs, miss), 0])
    labels = rng.permuted(np.tile(np.arange(total) < n_ref, (n, 1)), axis=1)
    out = []
    for row in labels:
        side, miss_a = row[: len(pooled)], int(row[len(pooled):].sum())
        out.append(fitted._between(pooled[side], miss_a, pooled[~side],
                                   fitted.ref_missing + miss - miss_a)[0])
    return np.array(out)


def test_split_statistics_equal_each_split_compared_apart() -> None:
    rng = np.random.default_rng(0)
    for _ in range(150):
        n, m = int(rng.integers(1, 300)), int(rng.integers(1, 300))
        trim = float(rng.choice([0.0, 0.01, 0.05, 0.1]))
        ref = np.round(np.exp(2 * rng.normal(size=n)), int(rng.integers(0, 3)))  # ties
        cur = np.round(np.exp(2 * rng.normal(size=m)), 1)
        ref[rng.random(n) < 0.1] = np.nan
        cur[rng.random(m) < 0.1] = np.nan
        fitted = EMD(trim=trim).fit(ref, rng=rng)
        got = fitted._split_statistics(fitted._prepare(cur), 7)
        np.testing.assert_allclose(got, _explicit(fitted, cur, 7), rtol=1e-9, atol=1e-12)


def test_splits_depend_on_the_sizes_only_and_are_shared() -> None:
    a = split_distances(300, 1300, 1290, 50, 0.01, (True, True))
    b = split_distances(300, 1300, 1290, 50, 0.01, (True, True))
    assert a[0][0] is b[0][0] and not a[0][0].flags.writeable  # cached, read-only
    other = split_distances(300, 1300, 1290, 50, 0.01, (True, True), draw=1)
    assert not np.array_equal(a[0][0], other[0][0])  # another draw of the same sizes
    draws = {split_draw(np.random.default_rng(i).normal(size=50), 0) for i in range(40)}
    assert draws == set(range(4))  # windows of one size spread over the draws
    big = split_distances(300, 20_000, 20_000, 200, 0.01, (True, True))  # in blocks, not kept
    assert sum(len(d) for d, _ in big) == 200 and len(big) > 1
    assert big[0][0] is not split_distances(300, 20_000, 20_000, 200, 0.01, (True, True))[0][0]


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
    across ten features, 24 times too often (22 of 900); the permutation null, 4 of 900."""
    sizes = range(900, 1100)
    permuted = _p_values(_lognormal, 200, sizes, 300, 3, 1)
    assert np.mean(permuted <= 0.01) <= 0.025
    assert np.mean(permuted <= 0.001) <= 0.008
    monkeypatch.setattr(emd, "PERMUTED_BELOW", 0)  # the bootstrap null, as before
    boot = _p_values(_lognormal, 200, sizes, 300, 3, 1)
    assert np.mean(boot <= 0.001) > 3 * max(np.mean(permuted <= 0.001), 1 / 900)


def test_permutation_p_values_are_uniform_and_a_shift_is_found() -> None:
    normal = lambda rng, k: rng.normal(size=k)  # noqa: E731
    p = _p_values(normal, 500, range(480, 520), 10, 30, 2)
    assert 0.4 < np.mean(p) < 0.6 and np.mean(p <= 0.1) < 0.15
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


def test_permutation_policy_uses_the_same_splits() -> None:
    rng = np.random.default_rng(5)
    ref, cur = _lognormal(rng, 300), _lognormal(rng, 300) * 1.5
    s = EMD(Permutation(n=99, alpha=0.05)).fit(ref, rng=rng).score(cur)
    fitted = EMD().fit(ref, rng=rng)
    perm = fitted._split_statistics(fitted._prepare(cur), 99)
    assert s.p_value == pytest.approx((np.sum(perm >= s.statistic) + 1) / 100)
