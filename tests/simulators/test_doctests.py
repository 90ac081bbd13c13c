"""The runnable examples in the simulators' docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["app", "calibration", "effects", "evaluate", "report", "scenarios", "sources"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"driftscope.simulators.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
