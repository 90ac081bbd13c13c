"""The registry: names, duplicates, unknown names, parameters; and the runnable examples."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import driftscope.detectors as pkg
from driftscope.detectors import registry
from driftscope.detectors.emd import EMD
from driftscope.errors import ConfigError, RegistryError

EXPECTED = {
    "linf",
    "l1",
    "emd",
    "mmd",
    "sliced_wasserstein",
    "ot_emd",
    "ks",
    "chi2",
    "psi",
    "jensen_shannon",
    "kl",
    "hellinger",
    "projected",
}


def test_names() -> None:
    assert set(registry.names()) == EXPECTED
    assert registry.names() == sorted(registry.names())
    assert set(registry.projection_names()) == {
        "analytical",
        "gaussian_random",
        "sparse_random",
        "pca",
        "autoencoder",
    }


def test_get_builds_with_parameters() -> None:
    det = registry.get("emd", normalise="std")
    assert isinstance(det, EMD) and det.normalise == "std"


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(RegistryError) as info:
        registry.get("wasserstien")
    msg = str(info.value)
    assert "wasserstien" in msg and "emd" in msg and "linf" in msg
    with pytest.raises(KeyError):  # RegistryError is a KeyError too
        registry.get("nope")


def test_duplicate_name_is_an_error() -> None:
    reg = registry.Registry("detector", [EMD])
    with pytest.raises(RegistryError, match="duplicate"):
        reg.add(EMD)


def test_bad_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="emd"):
        registry.get("emd", bins=3)
    with pytest.raises(ConfigError):
        registry.get("emd", normalise="mad")


def test_every_detector_declares_its_kind() -> None:
    for name in registry.names():
        cls = registry.DETECTORS.cls(name)
        assert cls.name == name
        assert cls.input_kind in ("numeric", "categorical", "univariate", "multivariate")


def test_plain_arrays_work_for_the_monitor() -> None:
    rng = np.random.default_rng(0)
    num = rng.normal(size=100)
    num[3] = np.nan
    cat = np.array(["x", None, "y"] * 30, dtype=object)
    assert not registry.get("emd").fit(num, rng=rng).score(num).drifted
    assert not registry.get("linf").fit(cat, rng=rng).score(cat).drifted


MODULES = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__))


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str) -> None:
    mod = importlib.import_module(f"driftscope.detectors.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
