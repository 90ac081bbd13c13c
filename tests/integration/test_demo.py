"""`driftscope demo` end to end, in its short mode, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_short_detects_the_drift_and_nothing_before_it(tmp_path: Path) -> None:
    # a subprocess: the demo opens its own chDB path, which this test process cannot share
    proc = subprocess.run(
        [sys.executable, "-m", "driftscope.cli", "demo", "--short", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in out.splitlines()
        if line.count("│") == 3
    }
    assert rows["windows monitored"] == "12"
    sent, stored = rows["predictions sent / stored"].split(" / ")
    assert sent == stored == "6050"
    assert rows["dead letters"] == "0"
    assert rows["alerts before onset"] == "0"
    assert rows["first detection (alert)"] != "not detected"
    assert 1 <= int(rows["windows from onset to alert"]) <= 6
    assert int(rows["drifted windows"]) >= 1
    assert "[ALERT]" in out
    assert (tmp_path / "db").exists()
    report = tmp_path / "report.html"
    assert report.exists() and "<svg" in report.read_text()
