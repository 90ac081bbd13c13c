"""After `driftscope demo`, the commands it prints reach the demo's data."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path


def driftscope(*args: str, cwd: Path, env: dict[str, str] | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "driftscope.cli", *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def test_the_demo_prints_how_other_commands_reach_its_data(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    demo = driftscope("demo", "--short", "--data-dir", str(data), cwd=tmp_path)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    lines = demo.stdout.splitlines()
    exports = [line.strip() for line in lines if line.strip().startswith("export ")]
    reports = [line.strip() for line in lines if line.strip().startswith("driftscope report")]
    assert len(exports) == 1 and len(reports) == 1, demo.stdout[-2000:]
    env = dict(word.split("=", 1) for word in shlex.split(exports[0])[1:])
    assert env["DRIFTSCOPE_STORE__DATABASE"] == "demo"
    assert env["DRIFTSCOPE_STORE__DSN"] == f"chdb://{(data / 'db').resolve()}"

    out = tmp_path / "r.html"
    args = shlex.split(reports[0])[1:]
    report = driftscope(*args, "--out", str(out), cwd=tmp_path, env=env)
    assert report.returncode == 0, report.stderr[-3000:]
    assert "<svg" in out.read_text()

    # the default database holds none of it: one line that says what to do
    wrong = driftscope(*args, "--out", str(out), cwd=tmp_path,
                       env={"DRIFTSCOPE_STORE__DSN": env["DRIFTSCOPE_STORE__DSN"]})
    assert wrong.returncode == 2, wrong.stderr[-3000:]
    errors = [line for line in wrong.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: "), errors
    assert "has no table" in errors[0] and "driftscope migrate" in errors[0]
    assert "DRIFTSCOPE_STORE__DATABASE" in errors[0]


def test_a_demo_stopped_by_ctrl_c_says_its_database_holds_a_partial_run(tmp_path: Path) -> None:
    """Found in review: one Ctrl-C stopped the demo (exit 130) without a word, and the
    user was not told that the demo's database now held half a run."""
    import signal
    import time

    data = tmp_path / "demo"
    proc = subprocess.Popen(
        [sys.executable, "-m", "driftscope.cli", "demo", "--short", "--data-dir", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 240
        for line in proc.stdout:  # once the broker is up, the run is under way
            if line.startswith("broker on") or time.monotonic() > deadline:
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    said = [line for line in err.splitlines() if line.startswith("interrupted:")]
    assert said == [f"interrupted: database demo at chdb://{(data / 'db').resolve()} holds a "
                    "partial run; `driftscope demo` starts it afresh"], err[-2000:]
