"""The runnable examples in the alerts' docstrings run (the rules' state machine, the
messages' formats): a change of behaviour cannot leave them saying something else."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["model", "rules", "messages", "retrain", "health"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"driftscope.alerts.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
