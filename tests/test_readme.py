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


def test_the_reference_upload_in_the_example_names_the_reference_the_monitor_uses() -> None:
    lines = [line for line in README.read_text().splitlines() if "reference upload" in line]
    commented = [line for line in lines if "dataset:" in line]
    assert commented, "the example no longer shows how to upload its reference"
    for line in commented:
        dataset = re.search(r"dataset:\s*([\w-]+)", line)
        command = line.split("#", 1)[1].split()
        assert dataset, line
        named = command[command.index("--name") + 1] if "--name" in command else None
        stem = Path(command[-1]).stem
        assert (named or stem) == dataset.group(1), line


def test_the_readme_says_the_embedded_store_takes_one_process_at_a_time() -> None:
    text = README.read_text()
    commands = text.index("## The `driftscope` command")
    limit = text.find("one process at a time", commands)
    assert limit != -1 and limit < text.index("## Configuration")


def test_the_first_screen_is_two_commands() -> None:
    first = re.search(r"```bash\n(.*?)```", README.read_text(), re.S)
    assert first
    assert [line.split()[:2] for line in first.group(1).splitlines()] == [
        ["make", "demo"], ["make", "test"]]
