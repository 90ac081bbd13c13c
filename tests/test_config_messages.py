"""Configuration errors say what is wrong: an unknown key before the missing one it
stands for, "missing" for a missing key, a likely name for a misspelt rule metric."""

from __future__ import annotations

from pathlib import Path

from config_errors import load_message

BASE = """
models: [{id: churn, window: 1h}]
monitors:
  - name: mon
    model: churn
    features: [age, plan]
    performance: {task: classification, prediction: pred}
    rules:
      - %s
"""


message = load_message


def test_a_misspelt_key_is_named_not_reported_as_the_missing_one(tmp_path: Path) -> None:
    """``valeu`` read 'monitors.0.rules.0.value = a dict: Field required'."""
    got = message(tmp_path, BASE % "{metric: accuracy, op: '<', valeu: 0.9}")
    assert "monitors.0.rules.0.valeu = 0.9: unknown key; did you mean value?" in got


def test_a_misspelt_key_elsewhere_comes_first_too(tmp_path: Path) -> None:
    got = message(tmp_path, "models:\n  - {idd: churn}\n")
    assert "models.0.idd = 'churn': unknown key; did you mean id?" in got


def test_a_missing_key_says_missing(tmp_path: Path) -> None:
    got = message(tmp_path, BASE % "{metric: accuracy, op: '<'}")
    assert "monitors.0.rules.0.value: missing" in got and "a dict" not in got


def test_a_misspelt_rule_metric_names_the_likely_one(tmp_path: Path) -> None:
    got = message(tmp_path, BASE % "{metric: acuracy, op: '<', value: 0.9}")
    assert "metric 'acuracy' is not computed by this monitor" in got
    assert "did you mean accuracy?" in got


def test_a_check_of_a_whole_section_does_not_show_it_as_a_dict(tmp_path: Path) -> None:
    """'monitors.0 = a dict: rules: …' said nothing the key did not."""
    got = message(tmp_path, BASE % "{metric: mmd, op: '>', value: 0.1}")
    assert "monitors.0: rules: metric 'mmd' is not computed" in got and "a dict" not in got


def test_a_rule_on_a_detector_the_monitor_does_not_run_says_so(tmp_path: Path) -> None:
    """'mmd' is spelt right: 'did you mean emd?' would mislead."""
    got = message(tmp_path, BASE % "{metric: mmd, op: '>', value: 0.1}")
    assert "mmd is a detector it does not run (add it to detectors)" in got
    assert "did you mean" not in got


def test_rules_written_as_a_mapping_say_how_to_write_a_list(tmp_path: Path) -> None:
    text = (BASE % "x").replace("      - x\n", "      accuracy: {op: '<', value: 0.9}\n")
    got = message(tmp_path, text)
    assert "monitors.0.rules = a dict: Input should be a valid list" in got
    assert "starting with '- '" in got
