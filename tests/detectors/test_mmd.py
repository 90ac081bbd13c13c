"""MMD: exact against a slow reference, calibrated under the null, powerful under shifts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from driftscope.detectors.kernels import kernel, permutation_mmd2
from driftscope.detectors.mmd import MMD
from driftscope.detectors.significance import Constant, Permutation, PValue


def slow_kernel(a: np.ndarray, b: np.ndarray, name: str, bws: np.ndarray) -> float:
    if name == "gaussian":
        d2 = float(np.sum((a - b) ** 2))
        return float(np.mean([np.exp(-d2 / (2 * s * s)) for s in bws]))
    d1 = float(np.sum(np.abs(a - b)))
    return float(np.mean([np.exp(-d1 / s) for s in bws]))


def slow_mmd2(x: np.ndarray, y: np.ndarray, name: str, bws: np.ndarray) -> float:
    """Textbook unbiased MMD² with explicit loops."""
    n, m = len(x), len(y)
    sxx = sum(slow_kernel(x[i], x[j], name, bws) for i in range(n) for j in range(n) if i != j)
    syy = sum(slow_kernel(y[i], y[j], name, bws) for i in range(m) for j in range(m) if i != j)
    sxy = sum(slow_kernel(x[i], y[j], name, bws) for i in range(n) for j in range(m))
    return sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2 * sxy / (n * m)


def slow_permutation_p(x: np.ndarray, y: np.ndarray, name: str, bws: np.ndarray, b: int) -> float:
    rng = np.random.default_rng(12345)
    z = np.concatenate([x, y])
    k = np.array([[slow_kernel(a, c, name, bws) for c in z] for a in z])
    n = len(x)

    def stat(idx: np.ndarray) -> float:
        xi, yi = idx[:n], idx[n:]
        kxx, kyy, kxy = k[np.ix_(xi, xi)], k[np.ix_(yi, yi)], k[np.ix_(xi, yi)]
        return float(
            (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
            + (kyy.sum() - np.trace(kyy)) / (len(yi) * (len(yi) - 1))
            - 2 * kxy.mean()
        )

    obs = stat(np.arange(len(z)))
    perms = [stat(rng.permutation(len(z))) for _ in range(b)]
    return (1 + sum(p >= obs for p in perms)) / (b + 1)


@pytest.mark.parametrize(
    ("name", "mult"), [("gaussian", (1.0,)), ("gaussian", (0.5, 1.0, 2.0)), ("laplacian", (1.0,))]
)
def test_statistic_equals_slow_reference(name: str, mult: tuple[float, ...]) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(25, 3)), rng.normal(0.4, size=(18, 3))
    fitted = MMD(Constant(0.0), kernel=name, multipliers=mult).fit(x, rng=rng)
    z, bandwidths = fitted.pooled(fitted.standard.apply(y))  # standardised together
    expected = slow_mmd2(z[:25], z[25:], name, bandwidths)
    got = fitted.score(y)
    assert got.details["raw_statistic"] == pytest.approx(expected, rel=1e-9)
    assert got.statistic == pytest.approx(max(expected, 0.0), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("max_mb", [0.001, 256.0])  # row blocks of 1 row, and whole
def test_batched_permutations_equal_per_permutation_statistics(max_mb: float) -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(size=(30, 2))
    n, bw = 12, torch.tensor([1.3], dtype=torch.float64)
    assign = np.zeros((30, 6))
    perms = [rng.permutation(30) for _ in range(6)]
    for b, perm in enumerate(perms):
        assign[perm[:n], b] = 1.0
    got = permutation_mmd2(
        torch.from_numpy(z), n, torch.from_numpy(assign), "gaussian", bw, max_mb
    ).numpy()
    expected = [slow_mmd2(z[p[:n]], z[p[n:]], "gaussian", np.array([1.3])) for p in perms]
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_p_value_matches_slow_reference_within_monte_carlo_error() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(20, 2)), rng.normal(0.35, size=(20, 2))
    b = 400
    fitted = MMD(Permutation(n=b)).fit(x, rng=rng)
    ours = fitted.score(y).p_value
    assert ours is not None
    z, bandwidths = fitted.pooled(fitted.standard.apply(y))
    slow = slow_permutation_p(z[:20], z[20:], "gaussian", bandwidths, b)
    se = np.sqrt(2 * slow * (1 - slow) / b) + 1 / b
    assert abs(ours - slow) <= 4 * se, (ours, slow)
    assert 0.0 < slow < 1.0  # a case where the comparison says something


def test_null_p_values_are_uniform() -> None:
    ps = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        x, y = rng.normal(size=(30, 2)), rng.normal(size=(30, 2))
        ps.append(MMD(Permutation(n=50), n_witness=1).fit(x, rng=rng).score(y).p_value)
    p = np.array(ps)
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert np.mean(p < 1 / 51) <= 0.05  # beyond every permutation (the tail's): about 1/51
    assert 0.0 <= np.mean(p <= 0.05) <= 0.1


def test_many_features_few_rows_keep_the_level() -> None:
    """400 features, 40 rows a side: standardised on the reference alone, the window sat
    off the reference's centre by its own sampling noise in every feature, and about 10 %
    of windows without drift were flagged at a 5 % level."""
    flagged = 0
    for seed in range(160):
        rng = np.random.default_rng(seed)
        x, y = rng.normal(size=(40, 400)), rng.normal(size=(40, 400))
        flagged += MMD(Permutation(n=50), n_witness=1).fit(x, rng=rng).score(y).drifted
    assert flagged / 160 <= 0.07, flagged


def test_power_on_shifted_gaussians() -> None:
    hits = 0
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        x, y = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
        y[:, 0] += 1.0
        hits += MMD(Permutation(n=100)).fit(x, rng=rng).score(y).drifted
    assert hits >= 18


def test_drifted_iff_p_at_most_alpha() -> None:
    for seed in range(15):
        rng = np.random.default_rng(seed)
        x, y = rng.normal(size=(25, 2)), rng.normal(0.5 * (seed % 3), size=(25, 2))
        s = MMD(Permutation(n=99, alpha=0.1)).fit(x, rng=rng).score(y)
        assert s.p_value is not None
        assert s.drifted == (s.p_value <= 0.1)


def test_linear_estimator_null_and_power() -> None:
    null_p, power = [], 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        x, y = rng.normal(size=(1000, 3)), rng.normal(size=(1000, 3))
        det = MMD(PValue(0.05), estimator="linear", n_witness=1)
        null_p.append(det.fit(x, rng=rng).score(y).p_value)
        power += det.fit(x, rng=rng).score(y + np.array([1.0, 0, 0])).drifted
    assert np.mean(np.array(null_p) <= 0.05) <= 0.15
    assert power >= 50


def test_witness_ranks_the_shifted_feature_and_rows() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(200, 5)), rng.normal(size=(200, 5))
    y[:40, 3] += 3.0  # a new cluster: 40 rows moved along feature 3
    s = MMD(Constant(0.0)).fit(x, rng=rng).score(y)
    assert s.details["feature_importance"][0][0] == 3
    top_rows = {i for i, _ in s.details["top_current_rows"]}
    assert top_rows <= set(range(40))


def test_witness_reads_the_whole_window_and_reference_not_their_first_rows() -> None:
    """The witness looks at up to ``n_witness`` rows: drawn across a window whose late rows
    moved, and across a reference whose early and late rows differ (stored in time order)."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=(3000, 4))
    x[1500:, 1] += 2.0  # the reference's second half: another regime, in the normal too
    y = rng.normal(size=(2000, 4))
    y[1000:, 1] += 2.0  # the window mixes both regimes like the reference …
    y[1800:, 2] += 3.0  # … and its last 200 rows moved along feature 2
    s = MMD(Constant(0.0), n_witness=300).fit(x, rng=rng).score(y)
    assert s.details["feature_importance"][0][0] == 2
    top_rows = [i for i, _ in s.details["top_current_rows"]]
    assert all(1800 <= i < 2000 for i in top_rows), top_rows


def test_kernel_is_one_on_the_diagonal() -> None:
    x = torch.from_numpy(np.random.default_rng(4).normal(size=(10, 3)))
    for name in ("gaussian", "laplacian"):
        k = kernel(x, x, name, torch.tensor([0.7, 2.0], dtype=torch.float64))
        np.testing.assert_allclose(k.diagonal().numpy(), 1.0, rtol=1e-12)


def test_float32_is_close_to_float64() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(300, 6)), rng.normal(0.2, size=(280, 6))
    a = MMD(Permutation(n=50)).fit(x, rng=np.random.default_rng(0)).score(y)
    b = MMD(Permutation(n=50), dtype="float32").fit(x, rng=np.random.default_rng(0)).score(y)
    assert b.statistic == pytest.approx(a.statistic, rel=1e-3)
    assert b.p_value == pytest.approx(a.p_value, rel=0.05)  # (beyond every permutation:
    # the tail fitted to statistics that differ in their last digits)


def test_a_reference_quantile_threshold_holds_its_level_on_many_features() -> None:
    """The bootstrap null shared rows between its two sides: every statistic fell below 0,
    the threshold was 0, and 31 of 60 windows without drift were flagged at 256 features
    (5 of 60 at 64). The window's own permutations hold the level and keep the power."""
    from driftscope.detectors.significance import ReferenceQuantile

    def flagged(d: int, n_ref: int, n_cur: int, shift: float, trials: int) -> int:
        hits = 0
        for t in range(trials):
            rng = np.random.default_rng(t)
            ref, cur = rng.normal(size=(n_ref, d)), rng.normal(size=(n_cur, d))
            cur[:, :4] += shift
            fitted = MMD(ReferenceQuantile(q=0.99, n_boot=200)).fit(
                ref, rng=np.random.default_rng(100 + t))
            hits += fitted.score(cur).drifted
        return hits

    assert flagged(256, 100, 100, 0.0, 40) <= 2  # (about 1 % expected; 20 of 40 before)
    assert flagged(64, 1000, 500, 0.2, 10) >= 8  # a 0.2-sd shift of 4 features of 64


def test_a_device_torch_does_not_know_is_refused_and_one_not_here_runs_on_the_cpu(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Found in review: ``device: gpu`` (or ``cuda`` without one) passed the monitor's
    start and raised at every window, taking the window's other drift rows with it. A name
    torch does not know stops the start; a device it knows that this machine lacks (a
    configuration written for a GPU host) runs on the CPU, with a warning."""
    import torch

    from driftscope.errors import ConfigError
    from driftscope.monitor.config import MonitorConfig
    from driftscope.monitor.detect import check_detectors

    with pytest.raises(ConfigError, match="device"):
        MMD(device="gpu")
    m = MonitorConfig(name="m", model="x", features=["a", "b"],
                      detectors=[{"name": "mmd", "params": {"device": "gpu"}}])
    with pytest.raises(ConfigError, match="monitor m: detector mmd: device"):
        check_detectors([m])
    assert MMD(device=torch.device("cpu")).device == "cpu" and MMD().device == "auto"
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    rng = np.random.default_rng(0)
    with caplog.at_level("WARNING", logger="driftscope.detectors.mmd"):
        fitted = MMD(Permutation(n=20), device="cuda").fit(rng.normal(size=(60, 3)), rng=rng)
        s = fitted.score(rng.normal(size=(60, 3)) + 2.0)
    assert fitted.device == "cpu" and s.drifted
    assert "device cuda is not on this machine; running on the cpu" in caplog.text
