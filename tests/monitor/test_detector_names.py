"""A detector's name in driftscope.yaml is checked when the configuration loads: a typo
stops every command with one line, rather than failing each window at run time while
`monitor --once` exits 0 and `health monitor` reports a healthy pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from driftscope.config import load_config
from driftscope.errors import ConfigError


def _file(tmp_path: Path, *names: str) -> Path:
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump({"monitors": [{
        "name": "m", "model": "m", "features": ["x"],
        "detectors": [{"name": n} for n in names]}]}))
    return path


def test_a_misspelt_detector_is_refused_with_the_valid_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_file(tmp_path, "emd", "linff"), {})
    msg = str(info.value)
    assert msg.startswith(f"{tmp_path / 'driftscope.yaml'}: monitors.0.detectors.1.name = "
                          "'linff': unknown detector 'linff'; did you mean linf?")
    assert "valid names: chi2, emd, hellinger," in msg and "\n" not in msg
    with pytest.raises(ConfigError, match=r"unknown detector 'zzz' \(valid names: chi2"):
        load_config(_file(tmp_path, "zzz"), {})  # nothing close: no guess


def test_every_registered_detector_loads(tmp_path: Path) -> None:
    from driftscope.detectors import registry

    cfg = load_config(_file(tmp_path, *registry.names()), {})
    assert [d.name for d in cfg.monitors[0].detectors] == registry.names()


def test_the_detector_names_of_the_configuration_are_the_registry_s() -> None:
    from driftscope.detectors import registry
    from driftscope.monitor.config import DETECTOR_NAMES

    assert set(registry.names()) == DETECTOR_NAMES


def test_loading_a_configuration_does_not_import_the_detectors(tmp_path: Path) -> None:
    """The names are checked without the registry (seconds of imports for every command)."""
    code = ("import sys; from driftscope.config import load_config; "
            f"load_config({str(_file(tmp_path, 'ks'))!r}, {{}}); "
            "print('driftscope.detectors.registry' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(("name", "on", "said"), [
    ("mmd", "categorical", "detector mmd scores rows of numeric features only: on: categorical"),
    ("emd", "categorical", "detector emd scores numeric features only: on: categorical"),
])
def test_an_on_that_leaves_a_detector_nothing_is_refused(tmp_path: Path, name: str, on: str,
                                                         said: str) -> None:
    """Found in review: ``mmd`` with ``on: categorical`` loaded and never ran."""
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump({"monitors": [{
        "name": "m", "model": "m", "features": ["x", "y"],
        "detectors": [{"name": name, "on": on}]}]}))
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert said in str(info.value) and "\n" not in str(info.value)
    path.write_text(yaml.safe_dump({"monitors": [{
        "name": "m", "model": "m", "features": ["x", "y"],
        "detectors": [{"name": name, "on": "numeric"}]}]}))
    assert load_config(path, {}).monitors[0].detectors[0].on == "numeric"
