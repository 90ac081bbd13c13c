"""`alerts:` settings that cannot work stop at load time with one line, not at run time."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftscope.config import load_config
from driftscope.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("  retrain:\n    policies:\n      - {name: weekly, kind: periodic, every: 0s}\n",
         ["alerts.retrain.policies.0.every", "'0s'", "positive"]),
        ("  retrain:\n    policies:\n      - {name: weekly, kind: periodic, every: 0}\n",
         ["alerts.retrain.policies.0.every", "positive"]),
        ("  retrain:\n    policies:\n      - {name: r, kind: periodic, every: 1d}\n"
         "      - {name: r, kind: drift_sustained}\n",
         ["alerts.retrain.policies", "'r' is used twice"]),
        ("  retrain:\n    policies:\n      - {name: r, model: churn, kind: periodic, every: 1d}\n"
         "      - {name: r, kind: drift_sustained}\n",
         ["alerts.retrain.policies", "'r' is used twice"]),
        ("  retrain:\n    command: []\n", ["alerts.retrain.command", "program"]),
        ("  cooldown: -3600\n", ["alerts.cooldown", "-3600", "negative"]),
        ("  backoff: -1\n", ["alerts.backoff", "negative"]),
        ("  timeout: 0s\n", ["alerts.timeout", "positive"]),
        ("  backoff: 1m\n  backoff_max: 30s\n",
         ["backoff_max (0:00:30) is below backoff (0:01:00)"]),
    ],
)
def test_settings_that_cannot_work_stop_with_one_line(
    tmp_path: Path, text: str, needles: list[str]
) -> None:
    path = tmp_path / "driftscope.yaml"
    path.write_text("alerts:\n" + text)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert "\n" not in message and all(n in message for n in needles), message



def test_settings_that_work_still_load(tmp_path: Path) -> None:
    """One policy name per model (request ids carry the model); a longer first wait with
    no cap given raises the cap to it."""
    path = tmp_path / "driftscope.yaml"
    path.write_text(
        "alerts:\n  backoff: 1m\n  retrain:\n    policies:\n"
        "      - {name: weekly, model: churn, kind: periodic, every: 7d}\n"
        "      - {name: weekly, model: fraud, kind: periodic, every: 1d}\n")
    alerts = load_config(path, environ={}).alerts
    assert alerts.backoff_max == alerts.backoff
    assert [p.model for p in alerts.retrain.policies] == ["churn", "fraud"]
