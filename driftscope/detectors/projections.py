"""Projections: push high-dimensional rows into a few dimensions, then measure drift there.

Each projection stores parameters only; ``fit(reference, rng=...)`` returns a frozen,
picklable fitted projection whose ``transform(x)`` gives an ``(n, k)`` float array. Every
projection of a matrix works on its columns standardised robustly on the reference
(:func:`~driftscope.detectors.base.robust_standardiser`), so a column's units do not
matter: on raw values a column in the 1e5s outweighed the rest, and a 3-SD shift of a
column in km was missed where the same shift in metres was found.

- ``Analytical``: user functions of the rows (length, mean, norm …); pickled by reference,
  so give module-level functions.
- ``GaussianRandom`` and ``SparseRandom``: Johnson–Lindenstrauss random maps.
- ``PCA``: top principal components, plus the reconstruction error as a last column.
- ``Autoencoder``: a small torch MLP trained on the reference; latent codes plus the
  reconstruction error. Training is seeded from the caller's generator; transforms run in
  numpy, so a fitted autoencoder needs no torch state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Protocol

import numpy as np
import torch

from driftscope.errors import ConfigError, DetectorInputError

from .base import Standardiser, as_matrix, draw_seed, robust_standardiser


class FittedProjection(Protocol):
    def transform(self, x: Any) -> np.ndarray: ...


class Projection(Protocol):
    name: ClassVar[str]

    def fit(self, reference: Any, *, rng: np.random.Generator) -> FittedProjection: ...


@dataclass(frozen=True)
class FittedAnalytical:
    """The functions; ``transform`` stacks their outputs as columns (of the window
    standardised as the reference's columns were, with ``standard``)."""

    functions: tuple[tuple[str, Callable[[Any], Any]], ...]
    columns: int | None = None  # the reference's, when it was a matrix
    standard: Standardiser | None = None

    def transform(self, x: Any) -> np.ndarray:
        shape = np.shape(x)
        if self.columns is not None and len(shape) == 2 and shape[1] != self.columns:
            raise DetectorInputError(f"window: has {shape[1]} columns, the reference has "
                                     f"{self.columns}")  # (a row mean of 15 of 16 scored)
        if self.standard is not None:
            x = self.standard.apply(np.asarray(x, dtype=float))
        cols = [np.asarray(f(x), dtype=float).reshape(-1) for _, f in self.functions]
        if len({len(c) for c in cols}) != 1:
            raise DetectorInputError("analytical projections returned columns of unequal length")
        return np.column_stack(cols)


class Analytical:
    """User-supplied functions, each mapping the window to one value per row.

    The default functions (row norm and row mean) read a matrix's columns standardised on
    the reference, so no column's units decide them; a user's functions get the window as
    given (a ratio of two columns, a DataFrame's names), unless ``standardise=True``.

    Examples
    --------
    >>> import numpy as np
    >>> proj = Analytical({"norm": lambda x: np.linalg.norm(x, axis=1)})
    >>> proj.fit(np.ones((2, 4)), rng=np.random.default_rng(0)).transform(np.ones((2, 4)))
    array([[2.],
           [2.]])
    """

    name: ClassVar[str] = "analytical"

    def __init__(self, functions: Mapping[str, Callable[[Any], Any]] | None = None,
                 standardise: bool | None = None) -> None:
        fns = functions or {"row_norm": row_norm, "row_mean": row_mean}
        if not all(callable(f) for f in fns.values()):
            raise ConfigError("analytical projections need callables")
        self.functions = dict(fns)
        self.standardise = functions is None if standardise is None else bool(standardise)

    def fit(self, reference: Any, *, rng: np.random.Generator) -> FittedAnalytical:
        draw_seed(rng)
        arr = np.asarray(reference)
        if arr.ndim != 2 or not self.standardise:
            return FittedAnalytical(tuple(sorted(self.functions.items())),
                                    arr.shape[1] if arr.ndim == 2 else None)
        standard = robust_standardiser(arr.astype(float)) if arr.dtype.kind in "biuf" else None
        return FittedAnalytical(tuple(sorted(self.functions.items())), arr.shape[1], standard)


def row_norm(x: Any) -> np.ndarray:
    """Euclidean norm of each row."""
    return np.linalg.norm(np.asarray(x, dtype=float), axis=1)


def row_mean(x: Any) -> np.ndarray:
    """Mean of each row."""
    return np.asarray(x, dtype=float).mean(axis=1)


@dataclass(frozen=True)
class FittedLinear:
    """``(x - center) @ matrix`` on ``x`` standardised as the reference was."""

    standard: Standardiser
    center: np.ndarray
    matrix: np.ndarray

    def transform(self, x: Any) -> np.ndarray:
        xm = self.standard.apply(as_matrix(x, "window", d=len(self.center)))
        return np.asarray((xm - self.center) @ self.matrix)


def _standardised(reference: Any) -> tuple[Standardiser, np.ndarray]:
    """The reference's robust standardiser and its rows standardised by it."""
    x = as_matrix(reference, "reference")
    standard = robust_standardiser(x)
    return standard, standard.apply(x)


class GaussianRandom:
    """Gaussian random projection to ``k`` dimensions (entries N(0, 1/k)).

    Examples
    --------
    >>> import numpy as np
    >>> f = GaussianRandom(k=3).fit(np.zeros((5, 10)), rng=np.random.default_rng(0))
    >>> f.transform(np.ones((2, 10))).shape
    (2, 3)
    """

    name: ClassVar[str] = "gaussian_random"

    def __init__(self, k: int = 16) -> None:
        if k < 1:
            raise ConfigError("k must be >= 1")
        self.k = k

    def fit(self, reference: Any, *, rng: np.random.Generator) -> FittedLinear:
        standard, x = _standardised(reference)
        local = np.random.default_rng(draw_seed(rng))
        mat = local.normal(0.0, 1.0 / np.sqrt(self.k), size=(x.shape[1], self.k))
        return FittedLinear(standard, x.mean(0), mat)


class SparseRandom:
    """Sparse (Achlioptas/Li) random projection; ``density`` defaults to 1/sqrt(d).

    Examples
    --------
    >>> import numpy as np
    >>> f = SparseRandom(k=2).fit(np.zeros((5, 9)), rng=np.random.default_rng(0))
    >>> f.transform(np.ones((1, 9))).shape
    (1, 2)
    """

    name: ClassVar[str] = "sparse_random"

    def __init__(self, k: int = 16, density: float | None = None) -> None:
        if k < 1 or (density is not None and not 0 < density <= 1):
            raise ConfigError("k must be >= 1 and density in (0, 1]")
        self.k, self.density = k, density

    def fit(self, reference: Any, *, rng: np.random.Generator) -> FittedLinear:
        standard, x = _standardised(reference)
        d = x.shape[1]
        s = self.density or 1.0 / np.sqrt(d)
        local = np.random.default_rng(draw_seed(rng))
        u = local.random((d, self.k))
        mat = np.where(u < s / 2, -1.0, np.where(u < s, 1.0, 0.0)) / np.sqrt(s * self.k)
        return FittedLinear(standard, x.mean(0), mat)


@dataclass(frozen=True)
class FittedPCA:
    """Standardisation, centre, top components, and whether to append the reconstruction
    error."""

    standard: Standardiser
    center: np.ndarray
    components: np.ndarray  # d × k
    reconstruction_error: bool

    def transform(self, x: Any) -> np.ndarray:
        xm = self.standard.apply(as_matrix(x, "window", d=len(self.center))) - self.center
        z = xm @ self.components
        if not self.reconstruction_error:
            return np.asarray(z)
        err = np.sum((xm - z @ self.components.T) ** 2, axis=1)
        return np.column_stack([z, err])


CROSS_FIT_BELOW = 20
"""PCA is cross-fitted (:class:`CrossFitted`) on a reference of fewer rows than this many
times its features (:meth:`PCA.fit_held_out`). At 1,000 rows × 64 features, k = 2, the
held-out halves about the whole reference's mean and scale flagged 6 of 100 windows
without drift at a 99 % threshold, cross-fitted 5 (2 before the scale)."""


@dataclass(frozen=True)
class CrossFitted:
    """Two fits of one projection, each on one half of the reference: a window's even rows
    are projected by the first and its odd rows by the second, as each half of the
    reference was projected by the fit of the other. Window and reference rows then meet
    each fit alike, as rows it never saw."""

    first: Any
    second: Any

    def transform(self, x: Any) -> np.ndarray:
        xm = np.asarray(x)
        if len(xm) < 2:
            return np.asarray(self.first.transform(xm))
        a, b = self.first.transform(xm[0::2]), self.second.transform(xm[1::2])
        out = np.empty((len(xm), a.shape[1]))
        out[0::2], out[1::2] = a, b
        return out


class PCA:
    """Top ``k`` principal components of the reference (+ squared reconstruction error).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(50, 5))
    >>> PCA(k=2).fit(x, rng=np.random.default_rng(0)).transform(x).shape
    (50, 3)
    """

    name: ClassVar[str] = "pca"

    def __init__(self, k: int = 2, reconstruction_error: bool = True) -> None:
        if k < 1:
            raise ConfigError("k must be >= 1")
        self.k, self.reconstruction_error = k, reconstruction_error

    def fit(self, reference: Any, *, rng: np.random.Generator) -> FittedPCA:
        draw_seed(rng)
        return self._fit(reference)

    def _fit(self, reference: Any) -> FittedPCA:
        standard, x = _standardised(reference)
        center = x.mean(0)
        _, _, vt = np.linalg.svd(x - center, full_matrices=False)
        k = min(self.k, vt.shape[0])
        comps = vt[:k].T.copy()
        signs = np.sign(comps[np.argmax(np.abs(comps), axis=0), range(k)])  # fix SVD sign
        comps = comps * np.where(signs == 0, 1.0, signs)
        return FittedPCA(standard, center, comps, self.reconstruction_error)

    def fit_held_out(self, reference: Any, *, rng: np.random.Generator
                     ) -> tuple[FittedPCA | CrossFitted, np.ndarray]:
        """The fit, and the reference transformed as a window is.

        Anything fitted on a row makes it look closer to the fit than a fresh row. So each
        half's rows are scored and reconstructed by the components of the other half
        (signs aligned with the whole fit's), about the whole reference's mean and
        standardisation. By components fitted on it, a row's error was smaller than a fresh
        row's (a detector fitted on those errors flagged 6 % of windows without drift at
        2,000 × 8, 9 % at 500 × 20) and its scores wider (windows like the reference
        drifted in 35 % of cases at 40 rows × 60 features, 90 % at 200 × 100); about the
        other half's mean, the scores spread 1.7× a fresh window's (10 % at k = 2, 64
        features).

        A reference of fewer than :data:`CROSS_FIT_BELOW` rows a feature is cross-fitted
        instead (:class:`CrossFitted`): each half standardised, centred, scored and
        reconstructed wholly by a fit on the other, and a window's rows split between the
        two fits. There the whole reference's mean and scale, which hold each row, moved
        its error ~2d/n under a window's: 24 % of windows without drift flagged at
        50 × 200, 20 % at 100 × 300. Not on taller references, where that bias is small and
        a window's rows met two sets of components: a 0.25-SD shift of 2 of 8 features
        (2,000 rows) was flagged in 38 of 150 windows cross-fitted, 51 held out (53 before
        the standardisation)."""
        local = np.random.default_rng(draw_seed(rng))
        x = as_matrix(reference, "reference")
        if len(x) < CROSS_FIT_BELOW * x.shape[1] and len(x) // 2 >= self.k:
            order = local.permutation(len(x))
            first, second = order[: len(x) // 2], order[len(x) // 2 :]
            by_first, by_second = self._fit(x[first]), self._fit(x[second])
            signs = np.sign(np.sum(by_second.components * by_first.components, axis=0))
            by_second = replace(by_second, components=by_second.components
                                * np.where(signs == 0, 1.0, signs))
            z = np.empty((len(x), by_first.components.shape[1] + self.reconstruction_error))
            z[first], z[second] = by_second.transform(x[first]), by_first.transform(x[second])
            return CrossFitted(by_first, by_second), z
        fitted = self._fit(x)
        z = fitted.transform(x)
        if len(x) < 4:
            return fitted, z
        k = fitted.components.shape[1]
        order = local.permutation(len(x))
        halves = (order[: len(x) // 2], order[len(x) // 2 :])
        for mine, other in (halves, halves[::-1]):
            by_other = self._fit(x[other])
            if by_other.components.shape[1] != k:
                continue  # (a half with fewer rows than components: in-sample, as before)
            signs = np.sign(np.sum(by_other.components * fitted.components, axis=0))
            by_other = replace(by_other, standard=fitted.standard, center=fitted.center,
                               components=by_other.components
                               * np.where(signs == 0, 1.0, signs))
            z[mine] = by_other.transform(x[mine])
        return fitted, z


@dataclass(frozen=True)
class FittedAutoencoder:
    """Standardisation and MLP weights as numpy arrays; forward pass in numpy."""

    standard: Standardiser
    weights: tuple[np.ndarray, ...]  # W1, b1, W2, b2 (encoder), W3, b3, W4, b4 (decoder)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w1, b1, w2, b2, w3, b3, w4, b4 = self.weights
        z = np.tanh(x @ w1 + b1) @ w2 + b2
        return z, np.tanh(z @ w3 + b3) @ w4 + b4

    def transform(self, x: Any) -> np.ndarray:
        xs = self.standard.apply(as_matrix(x, "window", d=len(self.standard.center)))
        z, rec = self._forward(xs)
        return np.column_stack([z, np.mean((xs - rec) ** 2, axis=1)])


class Autoencoder:
    """A small tanh MLP autoencoder trained on the reference (latent + reconstruction error).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(64, 6))
    >>> f = Autoencoder(k=2, epochs=3).fit(x, rng=np.random.default_rng(0))
    >>> f.transform(x).shape
    (64, 3)
    """

    name: ClassVar[str] = "autoencoder"

    def __init__(
        self,
        k: int = 4,
        hidden: int = 32,
        epochs: int = 30,
        lr: float = 1e-2,
        batch_size: int = 256,
    ) -> None:
        if min(k, hidden, epochs, batch_size) < 1 or lr <= 0:
            raise ConfigError("k, hidden, epochs, batch_size must be >= 1 and lr > 0")
        self.k, self.hidden, self.epochs = k, hidden, epochs
        self.lr, self.batch_size = lr, batch_size

    def fit(self, reference: Any, *, rng: np.random.Generator) -> FittedAutoencoder:
        x = as_matrix(reference, "reference")
        seed = draw_seed(rng)
        standard = robust_standardiser(x)
        xs = torch.from_numpy(standard.apply(x))
        gen = torch.Generator().manual_seed(seed % 2**63)
        d, h, k = x.shape[1], self.hidden, self.k
        shapes = [(d, h), (h,), (h, k), (k,), (k, h), (h,), (h, d), (d,)]
        params = [
            (
                torch.randn(s, generator=gen, dtype=torch.float64) / np.sqrt(s[0])
                if len(s) == 2
                else torch.zeros(s, dtype=torch.float64)
            ).requires_grad_(True)
            for s in shapes
        ]
        opt = torch.optim.Adam(params, lr=self.lr)
        order_rng = np.random.default_rng([seed, 7])
        for _ in range(self.epochs):
            perm = torch.from_numpy(order_rng.permutation(len(xs)))
            for s in range(0, len(xs), self.batch_size):
                xb = xs[perm[s : s + self.batch_size]]
                w1, b1, w2, b2, w3, b3, w4, b4 = params
                z = torch.tanh(xb @ w1 + b1) @ w2 + b2
                loss = ((torch.tanh(z @ w3 + b3) @ w4 + b4 - xb) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
        weights = tuple(p.detach().numpy().copy() for p in params)
        return FittedAutoencoder(standard, weights)
