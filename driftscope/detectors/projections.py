"""Projections: push high-dimensional rows into a few dimensions, then measure drift there.

Each projection stores parameters only; ``fit(reference, rng=...)`` returns a frozen,
picklable fitted projection whose ``transform(x)`` gives an ``(n, k)`` float array.

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
    """The user functions; ``transform`` stacks their outputs as columns."""

    functions: tuple[tuple[str, Callable[[Any], Any]], ...]
    columns: int | None = None  # the reference's, when it was a matrix

    def transform(self, x: Any) -> np.ndarray:
        shape = np.shape(x)
        if self.columns is not None and len(shape) == 2 and shape[1] != self.columns:
            raise DetectorInputError(f"window: has {shape[1]} columns, the reference has "
                                     f"{self.columns}")  # (a row mean of 15 of 16 scored)
        cols = [np.asarray(f(x), dtype=float).reshape(-1) for _, f in self.functions]
        if len({len(c) for c in cols}) != 1:
            raise DetectorInputError("analytical projections returned columns of unequal length")
        return np.column_stack(cols)


class Analytical:
    """User-supplied functions, each mapping the window to one value per row.

    Examples
    --------
    >>> import numpy as np
    >>> proj = Analytical({"norm": lambda x: np.linalg.norm(x, axis=1)})
    >>> proj.fit(np.ones((2, 4)), rng=np.random.default_rng(0)).transform(np.ones((2, 4)))
    array([[2.],
           [2.]])
    """

    name: ClassVar[str] = "analytical"

    def __init__(self, functions: Mapping[str, Callable[[Any], Any]] | None = None) -> None:
        fns = functions or {"row_norm": row_norm, "row_mean": row_mean}
        if not all(callable(f) for f in fns.values()):
            raise ConfigError("analytical projections need callables")
        self.functions = dict(fns)

    def fit(self, reference: Any, *, rng: np.random.Generator) -> FittedAnalytical:
        draw_seed(rng)
        shape = np.shape(reference)
        return FittedAnalytical(tuple(sorted(self.functions.items())),
                                shape[1] if len(shape) == 2 else None)


def row_norm(x: Any) -> np.ndarray:
    """Euclidean norm of each row."""
    return np.linalg.norm(np.asarray(x, dtype=float), axis=1)


def row_mean(x: Any) -> np.ndarray:
    """Mean of each row."""
    return np.asarray(x, dtype=float).mean(axis=1)


@dataclass(frozen=True)
class FittedLinear:
    """``(x - center) @ matrix``."""

    center: np.ndarray
    matrix: np.ndarray

    def transform(self, x: Any) -> np.ndarray:
        xm = as_matrix(x, "window", d=len(self.center))
        return np.asarray((xm - self.center) @ self.matrix)


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
        x = as_matrix(reference, "reference")
        local = np.random.default_rng(draw_seed(rng))
        mat = local.normal(0.0, 1.0 / np.sqrt(self.k), size=(x.shape[1], self.k))
        return FittedLinear(x.mean(0), mat)


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
        x = as_matrix(reference, "reference")
        d = x.shape[1]
        s = self.density or 1.0 / np.sqrt(d)
        local = np.random.default_rng(draw_seed(rng))
        u = local.random((d, self.k))
        mat = np.where(u < s / 2, -1.0, np.where(u < s, 1.0, 0.0)) / np.sqrt(s * self.k)
        return FittedLinear(x.mean(0), mat)


@dataclass(frozen=True)
class FittedPCA:
    """Centre, top components, and whether to append the reconstruction error."""

    center: np.ndarray
    components: np.ndarray  # d × k
    reconstruction_error: bool

    def transform(self, x: Any) -> np.ndarray:
        xm = as_matrix(x, "window", d=len(self.center)) - self.center
        z = xm @ self.components
        if not self.reconstruction_error:
            return np.asarray(z)
        err = np.sum((xm - z @ self.components.T) ** 2, axis=1)
        return np.column_stack([z, err])


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
        return self._fit(as_matrix(reference, "reference"))

    def _fit(self, x: np.ndarray) -> FittedPCA:
        center = x.mean(0)
        _, _, vt = np.linalg.svd(x - center, full_matrices=False)
        k = min(self.k, vt.shape[0])
        comps = vt[:k].T.copy()
        signs = np.sign(comps[np.argmax(np.abs(comps), axis=0), range(k)])  # fix SVD sign
        comps = comps * np.where(signs == 0, 1.0, signs)
        return FittedPCA(center, comps, self.reconstruction_error)

    def fit_held_out(self, reference: Any, *, rng: np.random.Generator
                     ) -> tuple[FittedPCA, np.ndarray]:
        """The fit, and the reference transformed as a window is: the components as
        :meth:`fit` gives them; each half's rows scored and reconstructed by the
        components of the other half (signs aligned with the whole fit's), about the whole
        reference's mean (about the other half's, the scores' spread was 1.7× a fresh
        window's: 10 % of windows without drift flagged at k = 2, 64 features). A row's error
        by components fitted on it is smaller than a fresh row's, and a detector fitted on
        those errors flagged windows without drift 2–3 times as often as its level (6 % at
        2,000 × 8, 9 % at 500 × 20); its scores on them are wider than a fresh row's (the
        top components are the directions the reference's own noise spreads most), and
        windows like the reference drifted in 35 % of cases at 40 rows × 60 features, 90 %
        at 200 × 100."""
        local = np.random.default_rng(draw_seed(rng))
        x = as_matrix(reference, "reference")
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
            by_other = replace(by_other, center=fitted.center,  # (the other half's own
                               components=by_other.components  # centre spread the scores
                               * np.where(signs == 0, 1.0, signs))  # 1.7× too wide)
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
