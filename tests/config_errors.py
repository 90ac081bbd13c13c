"""The one-line message ``load_config`` gives for a configuration file's text."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftscope.config import load_config
from driftscope.errors import ConfigError


def load_message(tmp_path: Path, text: str) -> str:
    """``text`` written as a configuration file and loaded: the error's message, checked
    to be one line."""
    path = tmp_path / "driftscope.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    got = str(info.value)
    assert "\n" not in got
    return got
