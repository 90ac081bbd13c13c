"""Names used in driftscope.yaml → detector and projection classes.

Adding a detector is one module and one line in ``_DETECTORS`` below. A duplicate
name raises :class:`~driftscope.errors.RegistryError`; so does an unknown name, and its
message lists the valid ones.

Examples
--------
>>> import numpy as np
>>> from driftscope.detectors import registry
>>> "emd" in registry.names()
True
>>> det = registry.get("linf", n_bins=5)
>>> det.fit(np.arange(100.0), rng=np.random.default_rng(0)).score(np.arange(100.0)).drifted
False
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from driftscope.errors import ConfigError, RegistryError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name → class map that refuses duplicates and explains unknown names.

    Examples
    --------
    >>> class Demo:
    ...     name = "demo"
    >>> reg = Registry("thing", [Demo])
    >>> reg.names()
    ['demo']
    """

    def __init__(self, what: str, items: Iterable[type[T]] = ()) -> None:
        self.what = what
        self._items: dict[str, type[T]] = {}
        for cls in items:
            self.add(cls)

    def add(self, cls: type[T], name: str | None = None) -> type[T]:
        key = name or getattr(cls, "name", None)
        if not isinstance(key, str) or not key:
            raise RegistryError(f"{cls!r} has no `name`; give it a ClassVar name")
        if key in self._items:
            raise RegistryError(
                f"duplicate {self.what} name {key!r}: already {self._items[key].__name__}"
            )
        self._items[key] = cls
        return cls

    def cls(self, name: str) -> type[T]:
        try:
            return self._items[name]
        except KeyError:
            valid = ", ".join(sorted(self._items))
            raise RegistryError(f"unknown {self.what} {name!r}; valid names: {valid}") from None

    def get(self, name: str, **params: Any) -> T:
        cls = self.cls(name)
        try:
            return cls(**params)
        except TypeError as exc:
            raise ConfigError(f"bad parameters for {self.what} {name!r}: {exc}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items


def _build() -> tuple[Registry[Any], Registry[Any]]:
    from . import projections as pr
    from .chi2 import ChiSquare
    from .emd import EMD
    from .hellinger import Hellinger
    from .jensen_shannon import JensenShannon
    from .kl import KL
    from .ks import KS
    from .l1 import L1
    from .linf import LInf
    from .mmd import MMD
    from .pot_emd import OTDistance
    from .projected import ProjectedDetector
    from .psi import PSI
    from .sliced import SlicedWasserstein

    detectors: Registry[Any] = Registry(
        "detector",
        [
            LInf,
            L1,
            EMD,
            MMD,
            SlicedWasserstein,
            OTDistance,
            KS,
            ChiSquare,
            PSI,
            JensenShannon,
            KL,
            Hellinger,
            ProjectedDetector,
        ],
    )
    projections: Registry[Any] = Registry(
        "projection",
        [pr.Analytical, pr.GaussianRandom, pr.SparseRandom, pr.PCA, pr.Autoencoder],
    )
    return detectors, projections


DETECTORS, PROJECTIONS = _build()


def get(name: str, **params: Any) -> Any:
    """A detector configured with ``params``; unknown name → RegistryError listing names."""
    return DETECTORS.get(name, **params)


def names() -> list[str]:
    """Registered detector names, sorted."""
    return DETECTORS.names()


def get_projection(name: str, **params: Any) -> Any:
    """A projection configured with ``params``."""
    return PROJECTIONS.get(name, **params)


def projection_names() -> list[str]:
    return PROJECTIONS.names()
