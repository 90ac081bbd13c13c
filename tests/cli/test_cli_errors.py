"""Bad input on the command line: one line on stderr, exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def driftscope(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "driftscope.cli", *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["health", "monitor", "--max-age", "3x"], "--max-age"),
        (["health", "monitr"], "expected monitor or alerts"),  # not "no healthy pass yet"
        (["simulate", "no-drift", "--duration", "abc"], "--duration"),
        (["evaluate", "--trials", "0"], "--trials"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    args: list[str], says: str, tmp_path: Path
) -> None:
    proc = driftscope(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], lines
    assert "Traceback" not in proc.stdout + proc.stderr
