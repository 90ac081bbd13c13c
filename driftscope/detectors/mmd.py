"""Maximum Mean Discrepancy in torch: unbiased and linear-time MMD², permutation test, witness.

The unbiased statistic is computed on the reference and the window standardised together
(robust centre and scale of both) with the median-heuristic bandwidth of both, so it is a
function of the pooled rows and their sides alone and a permutation test of it is exact:
standardised on the reference alone, the reference sat at the centre of every feature and
the window off it by its own sampling noise, which at 500 features and 50 rows a side
flagged 10 % of windows without drift at a 5 % level.

The permutation test computes the joint kernel matrix of reference and current once
(whole, or in row blocks when it would not fit in ``max_kernel_mb``) and evaluates every
permutation at once as a matrix product with a 0/1 assignment matrix, so ``B``
permutations cost one ``N×N`` by ``N×B`` product. ``p = (b + 1) / (B + 1)``, never zero.
Pure functions over kernel matrices, in the spirit of alibi-detect's ``distance.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import torch
from scipy import stats

from driftscope.errors import ConfigError, DetectorInputError
from driftscope.types import Score

from .base import (
    FittedBase,
    Standardiser,
    as_matrix,
    check_policy,
    draw_seed,
    params_repr,
    robust_standardiser,
)
from .kernels import (
    kernel,
    linear_terms,
    median_heuristic,
    permutation_mmd2,
)
from .significance import Permutation, ReferenceQuantile, ThresholdPolicy

KERNELS = ("gaussian", "laplacian")
ESTIMATORS = ("unbiased", "linear")


@dataclass(frozen=True, kw_only=True)
class FittedMMD(FittedBase):
    """Standardised reference rows and kernel bandwidths (the reference's: the linear
    estimator's and the witness's; the unbiased statistic's are the pooled rows',
    :meth:`pooled`)."""

    ref: np.ndarray
    standard: Standardiser
    kernel_name: str
    bandwidths: np.ndarray
    estimator: str
    multipliers: tuple[float, ...]
    fixed_bandwidth: bool
    device: str
    max_kernel_mb: float
    n_witness: int
    dtype: str = "float64"
    # the window whose statistic was computed with its reference-quantile null, and that
    # null: one joint kernel pass for both (held by identity, so never another window's)
    _drawn: list[tuple[np.ndarray, np.ndarray]] = field(
        default_factory=list, init=False, compare=False, repr=False)

    def _t(self, x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x, dtype=self.dtype)).to(self.device)

    def _bw(self) -> torch.Tensor:
        return torch.as_tensor(self.bandwidths, dtype=torch.float64, device=self.device)

    def _prepare(self, current: Any) -> np.ndarray:
        x = as_matrix(current, "current window", d=self.ref.shape[1])
        if len(x) < 2:
            raise DetectorInputError("MMD needs at least 2 rows in the current window")
        return self.standard.apply(x)

    def _size(self, prepared: np.ndarray) -> int:
        return len(prepared)

    def _reference_size(self) -> int:
        return len(self.ref)

    def pooled(self, prepared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The reference's rows then the window's, standardised together (a robust
        standardiser is affine per feature, so standardising the reference-standardised
        rows again is standardising the raw ones), and the bandwidths of those rows: the
        median heuristic's times each multiplier, or the fixed bandwidth's."""
        z = np.concatenate([self.ref, prepared])
        z = robust_standardiser(z).apply(z)
        if self.fixed_bandwidth:
            return z, self.bandwidths
        base = median_heuristic(z, self.kernel_name, np.random.default_rng([self.seed, 3]))
        return z, np.array([base * m for m in self.multipliers])

    def _statistic(self, prepared: np.ndarray) -> tuple[float, dict[str, Any]]:
        if self.estimator == "linear":
            h = linear_terms(self._t(self.ref), self._t(self._paired(prepared)),
                             self.kernel_name, self._bw())
            raw = float(h.mean())
            return raw, {"raw_statistic": raw, "estimator": "linear", "pairs": len(h)}
        pol = self.policy
        n = pol.n_boot if isinstance(pol, ReferenceQuantile) else 0
        res = self._joint_permutations(prepared, self._null_rng(prepared), n, True)
        self._drawn[:] = [(prepared, np.sort(np.maximum(res[1:], 0.0)))] if n else []
        raw = float(res[0])
        return raw, {"raw_statistic": raw, "estimator": "unbiased"}

    def _null_rng(self, prepared: np.ndarray) -> np.random.Generator:
        return np.random.default_rng([self.seed, 4, len(prepared)])

    def _resample(self, rng: np.random.Generator, m: int) -> np.ndarray:
        return self.ref[rng.integers(0, len(self.ref), max(m, 2))]

    def _window_null(self, pol: ReferenceQuantile, prepared: np.ndarray) -> np.ndarray:
        """A reference-quantile threshold's null: the window's own ``n_boot`` permutations.
        (The bootstrap null — the reference against resamples of its own rows — shares rows
        between the two sides, which pulls the cross term up: every one of its statistics
        fell below 0, the threshold was 0, and a third of windows without drift were
        flagged at 64 features.)"""
        if self._drawn and self._drawn[0][0] is prepared:  # (drawn with its statistic)
            return self._drawn.pop()[1]
        return np.sort(np.maximum(self._permutation_statistics(
            prepared, self._null_rng(prepared), pol.n_boot), 0.0))

    def _paired(self, prepared: np.ndarray) -> np.ndarray:
        """The window's rows in a seeded random order, for the linear estimator's pairs:
        in time order, neighbours (a burst, a repeated row) would be paired together."""
        return prepared[np.random.default_rng([self.seed, 7, len(prepared)]).permutation(
            len(prepared))]

    def _statistic_and_permutations(
        self, prepared: np.ndarray, rng: np.random.Generator, n: int
    ) -> tuple[float, dict[str, Any], np.ndarray]:
        if self.estimator == "linear":
            return super()._statistic_and_permutations(prepared, rng, n)
        res = self._joint_permutations(prepared, rng, n, observed=True)
        raw = float(res[0])
        return raw, {"raw_statistic": raw, "estimator": "unbiased"}, res[1:]

    def _permutation_statistics(
        self, prepared: np.ndarray, rng: np.random.Generator, n: int
    ) -> np.ndarray:
        z = np.concatenate([self.ref, prepared])
        n_ref, big_n = len(self.ref), len(z)
        if self.estimator == "linear":  # batches of permutations, a few large tensor ops
            zt, bw = self._t(z), self._bw()
            idx = np.stack([rng.permutation(big_n) for _ in range(n)])
            batch = max(1, int(self.max_kernel_mb * 2**20 / (z.nbytes * 4)))
            out = []
            for s in range(0, n, batch):
                zp = zt[torch.from_numpy(idx[s : s + batch]).to(self.device)]
                h = linear_terms(zp[:, :n_ref], zp[:, n_ref:], self.kernel_name, bw)
                out.append(h.mean(-1).cpu().numpy())
            return np.concatenate(out).astype(float)
        return self._joint_permutations(prepared, rng, n, observed=False)

    def _joint_permutations(
        self, prepared: np.ndarray, rng: np.random.Generator, n: int, observed: bool
    ) -> np.ndarray:
        """Permutation MMD² of the pooled rows (:meth:`pooled`) from one joint kernel pass;
        column 0 is the observed split."""
        z, bw = self.pooled(prepared)
        n_ref, big_n = len(self.ref), len(z)
        extra = 1 if observed else 0
        assign = np.zeros((big_n, n + extra), dtype=self.dtype)
        if observed:
            assign[:n_ref, 0] = 1.0
        for b in range(n):
            assign[rng.permutation(big_n)[:n_ref], b + extra] = 1.0
        res = permutation_mmd2(
            self._t(z), n_ref, self._t(assign), self.kernel_name,
            torch.as_tensor(bw, dtype=torch.float64, device=self.device), self.max_kernel_mb
        )
        return res.cpu().numpy()

    def _p_value_and_critical(
        self, statistic: float, prepared: np.ndarray, alpha: float
    ) -> tuple[float, float]:
        if self.estimator != "linear":
            raise ConfigError(
                "PValue needs estimator='linear' (asymptotic normal); "
                "use Permutation for the unbiased estimator"
            )
        h = linear_terms(self._t(self.ref), self._t(self._paired(prepared)), self.kernel_name,
                         self._bw())
        se = float(h.std()) / np.sqrt(len(h)) if len(h) > 1 else float("inf")
        if not se > 0:  # every pair alike: drift exactly when the mean term is above 0
            return (0.0 if float(h.mean()) > 0 else 1.0), 0.0
        raw = float(h.mean())
        return float(stats.norm.sf(raw / se)), float(se * stats.norm.isf(alpha))

    def witness(self, current: Any) -> dict[str, Any]:
        """Witness values and the features and current rows that drive the difference.

        ``w(t) = mean k(t, reference) - mean k(t, current)``; strongly negative values
        mark current rows in regions the reference rarely visits. Feature importance is
        the mean absolute gradient of the witness over (up to ``n_witness``) current rows.
        """
        y = self._prepare(current)
        bw = self._bw()
        rng = np.random.default_rng([self.seed, 5, len(y)])
        rows = _spread(rng, len(y), self.n_witness)
        x_t = self._t(self.ref[_spread(rng, len(self.ref), self.n_witness * 2)])
        y_t = self._t(y)
        pts = y_t[rows].clone().requires_grad_(True)
        w = kernel(pts, x_t, self.kernel_name, bw).mean(1)
        w = w - kernel(pts, y_t, self.kernel_name, bw).mean(1)
        (grad,) = torch.autograd.grad(w.sum(), pts)
        imp = grad.abs().mean(0).detach().cpu().numpy()
        share = imp / imp.sum() if imp.sum() > 0 else imp
        wv = w.detach().cpu().numpy()
        order = np.argsort(wv, kind="stable")[:10]
        feats = np.argsort(-share, kind="stable")[:10]
        return {
            "feature_importance": [(int(i), float(share[i])) for i in feats],
            "top_current_rows": [(int(rows[i]), float(wv[i])) for i in order],
        }

    def score(self, current: Any) -> Score:
        base = super().score(current)
        return replace(base, details={**base.details, **self.witness(current)})


def _spread(rng: np.random.Generator, n: int, most: int) -> np.ndarray:
    """Up to ``most`` of ``n`` row positions, drawn at random and in order: a window's or a
    reference's first rows are its earliest, and the witness would read the start of each."""
    if n <= most:
        return np.arange(n)
    return np.sort(rng.choice(n, most, replace=False))


log = logging.getLogger(__name__)


def _checked_device(device: Any) -> str:
    """``device`` as torch names it (``"auto"`` kept): a name torch does not know (``gpu``)
    is a configuration error, where before it passed the start and raised at every window,
    taking the window's other drift rows with it. A device torch knows but this machine
    lacks (``cuda`` where there is no GPU) is taken: :func:`_usable` runs on the CPU then."""
    if device == "auto":
        return "auto"
    try:
        return str(torch.device(device))
    except (RuntimeError, TypeError, ValueError):
        raise ConfigError(f"device must be 'auto' or a torch device ('cpu', 'cuda', "
                          f"'cuda:1', 'mps' …), got {device!r}") from None


_WARNED: set[str] = set()


def _usable(device: str) -> str:
    """The device to run on: ``auto`` is CUDA where torch sees one, else the CPU; a device
    this machine lacks is the CPU, with one WARNING a process."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    kind = torch.device(device)
    lacks = ((kind.type == "cuda" and (not torch.cuda.is_available()
                                       or (kind.index or 0) >= torch.cuda.device_count()))
             or (kind.type == "mps" and not torch.backends.mps.is_available()))
    if not lacks:
        return device
    if device not in _WARNED:
        _WARNED.add(device)
        log.warning("mmd: device %s is not on this machine; running on the cpu", device)
    return "cpu"


class MMD:
    """Kernel two-sample statistic MMD² on standardised multivariate rows.

    Parameters
    ----------
    policy : ThresholdPolicy, optional
        Default ``Permutation(n=500, alpha=0.05)``.
    kernel : {"gaussian", "laplacian"}
    bandwidth : float, optional
        Fixed bandwidth; default the median heuristic on the reference.
    multipliers : tuple of float
        Several bandwidths ``bandwidth × multiplier`` averaged (a multi-scale kernel).
    estimator : {"unbiased", "linear"}
        ``linear`` is O(n) and suits very large windows (less power per row).
    dtype : {"float64", "float32"}
        ``float32`` halves time and memory; ``float64`` (default) is exact to 1e-9.
    device : str
        Where the kernel sums run: ``auto`` (default) takes CUDA when torch sees it; else
        a torch device (``cpu``, ``cuda:1``, ``mps``; one this machine lacks runs on the
        CPU, with a warning). A name torch does not know is a configuration error.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=(60, 3))
    >>> fitted = MMD(Permutation(n=50)).fit(ref, rng=rng)
    >>> fitted.score(rng.normal(size=(60, 3)) + 1.5).drifted
    True
    """

    name: ClassVar[str] = "mmd"
    input_kind: ClassVar[str] = "multivariate"

    def __init__(
        self,
        policy: ThresholdPolicy | None = None,
        *,
        kernel: str = "gaussian",
        bandwidth: float | None = None,
        multipliers: tuple[float, ...] = (1.0,),
        estimator: str = "unbiased",
        device: str = "auto",
        max_kernel_mb: float = 256.0,
        n_witness: int = 500,
        dtype: str = "float64",
    ) -> None:
        if kernel not in KERNELS or estimator not in ESTIMATORS:
            raise ConfigError(f"kernel must be in {KERNELS}, estimator in {ESTIMATORS}")
        self.policy = check_policy(policy or Permutation(n=500, alpha=0.05),
                                   "mmd with estimator unbiased", p_value=estimator == "linear")
        if bandwidth is not None and not bandwidth > 0:
            raise ConfigError(f"bandwidth must be > 0, got {bandwidth}")
        if not multipliers or min(multipliers) <= 0:
            raise ConfigError("multipliers must be a non-empty tuple of positive numbers")
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.multipliers = tuple(float(v) for v in multipliers)
        self.estimator = estimator
        self.device = _checked_device(device)
        self.max_kernel_mb = max_kernel_mb
        self.n_witness = n_witness
        if dtype not in ("float64", "float32"):
            raise ConfigError(f"dtype must be float64 or float32, got {dtype!r}")
        self.dtype = dtype

    def fit(self, reference: Any, *, rng: np.random.Generator) -> FittedMMD:
        """Standardise on the reference and fix its bandwidths."""
        seed = draw_seed(rng)
        x = as_matrix(reference, "reference")
        if len(x) < 2:
            raise DetectorInputError("MMD needs at least 2 reference rows")
        standard = robust_standardiser(x)
        xs = standard.apply(x)
        if self.estimator == "linear":  # its pairs take the first rows: a random set, not
            xs = xs[np.random.default_rng([seed, 8]).permutation(len(xs))]  # the oldest
        local = np.random.default_rng([seed, 3])
        base = self.bandwidth or median_heuristic(xs, self.kernel, local)
        bws = np.array([base * mlt for mlt in self.multipliers])
        device = _usable(self.device)
        return FittedMMD(
            self.policy,
            seed,
            ref=xs,
            standard=standard,
            kernel_name=self.kernel,
            bandwidths=bws,
            estimator=self.estimator,
            multipliers=self.multipliers,
            fixed_bandwidth=self.bandwidth is not None,
            device=device,
            max_kernel_mb=self.max_kernel_mb,
            n_witness=self.n_witness,
            dtype=self.dtype,
        )

    def __repr__(self) -> str:
        return params_repr(
            self,
            {
                "policy": self.policy,
                "kernel": self.kernel,
                "bandwidth": self.bandwidth,
                "multipliers": self.multipliers,
                "estimator": self.estimator,
            },
        )
