"""What the README shows a new user to copy must load."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from driftscope.config import Config

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_configuration_example_is_valid() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S)
    assert blocks, "the README shows no configuration example"
    for block in blocks:
        cfg = Config.model_validate(yaml.safe_load(block))
        assert cfg.monitors and cfg.monitors[0].model == "churn"
