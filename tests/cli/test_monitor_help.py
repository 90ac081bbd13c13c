"""`driftscope monitor --help` shows a complete configuration to copy: at the width of an
ordinary terminal it must still be that configuration."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import yaml

from driftscope.config import Config


def test_the_help_s_example_loads_at_80_columns() -> None:
    env = {**os.environ, "COLUMNS": "80"}
    out = subprocess.run([sys.executable, "-m", "driftscope.cli", "monitor", "--help"],
                         capture_output=True, text=True, timeout=60, env=env, check=True).stdout
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip() == "models:")
    end = next(i for i, line in enumerate(lines) if line.strip() == "Options:")
    assert max(len(line.rstrip()) for line in lines[first:end]) <= 80
    example = textwrap.dedent("\n".join(line.rstrip() for line in lines[first:end]))
    cfg = Config.model_validate(yaml.safe_load(example))
    assert [m.reference.kind for m in cfg.monitors] == ["previous"]
    assert cfg.alerts.retrain.policies, "the example was cut short"
