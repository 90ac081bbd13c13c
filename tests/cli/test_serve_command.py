"""`driftscope serve --broker`: the whole service in one process on the embedded default.

The app logs a drifting stream through PredictionLogger to the broker the command runs;
the command collects it into chDB, closes windows, runs monitor passes and prints the
alert; SIGTERM stops it cleanly. Before, on chDB, `collect` and `monitor` could not run
side by side (one process opens the store), so nothing monitored a live stream.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml

from driftscope.broker import free_port, wait_for_port
from driftscope.client import PredictionLogger
from driftscope.simulators.app import DemoApp
from driftscope.simulators.scenarios import Clock

N = 6000  # 500 events per simulated hour: 12 one-hour windows, drift from the middle


def _cli(*args: str, cwd: Path, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "driftscope.cli", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd, **kw,  # type: ignore[call-overload]
    )


def test_serve_collects_monitors_and_alerts_in_one_process(tmp_path: Path) -> None:
    port = free_port()
    clock = Clock(start=datetime(2026, 5, 1, tzinfo=UTC), events_per_second=500 / 3600)
    app = DemoApp("instantaneous-covariate", intensity="high", seed=5, clock=clock,
                  n_reference=3000, label_share=0.0)
    reference = app.fit().reference()
    pd.DataFrame(reference).to_csv(tmp_path / "training.csv", index=False)
    (tmp_path / "driftscope.yaml").write_text(yaml.safe_dump({
        "store": {"dsn": f"chdb://{tmp_path / 'db'}"},
        "kafka": {"bootstrap_servers": f"127.0.0.1:{port}", "partitions": 1},
        "collector": {"flush_interval": "0.3s"},
        "models": [{"id": "demo", "window": "1h"}],
        "monitors": [{"name": "demo-drift", "model": "demo", "features": sorted(reference),
                      "reference": {"kind": "dataset", "dataset": "training"}}],
        "alerts": {"console": True, "slack": False},
    }))
    up = _cli("reference", "upload", "training.csv", "--model", "demo", cwd=tmp_path)
    out, _ = up.communicate(timeout=120)
    assert up.returncode == 0, out

    proc = _cli("serve", "--broker", "--interval", "1", "--settle", "0s", cwd=tmp_path)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        time.sleep(1.0)  # past ensure_topics
        with PredictionLogger(f"127.0.0.1:{port}") as logger:
            counts = app.run(logger, N)
            assert logger.flush(60)
        assert counts.predictions == N and counts.drifted > 0
        deadline = time.monotonic() + 120
        while not any("[ALERT]" in line for line in lines) and time.monotonic() < deadline:
            assert proc.poll() is None, "".join(lines)
            time.sleep(0.5)
        assert any("[ALERT] demo / demo-drift" in line for line in lines), "".join(lines)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        reader.join(10)
        assert proc.returncode == 0, "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = "".join(lines)
    assert "Traceback" not in text
    assert "SIGTERM received" in text and "collector" in text and "stopped" in text
    # the store is released and holds the stream: the alerts list reads it
    listing = _cli("alerts", "list", "--model", "demo", cwd=tmp_path)
    out, _ = listing.communicate(timeout=120)
    assert listing.returncode == 0 and "demo-drift" in out, out
