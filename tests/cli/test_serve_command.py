"""`driftscope serve --broker`: the whole service in one process on the embedded default.

`driftscope simulate` logs a drifting stream through PredictionLogger to the broker the
command runs; the command collects it into chDB, closes windows, runs monitor passes and
prints the alert; SIGTERM stops it cleanly. Before, on chDB, `collect` and `monitor` could not run
side by side (one process opens the store), so nothing monitored a live stream.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from driftscope.broker import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, cwd: Path, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "driftscope.cli", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd, **kw,  # type: ignore[call-overload]
    )


@contextmanager
def _serving(*args: str, cwd: Path, env: dict[str, str]
             ) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """``driftscope serve ARGS`` with its output read into a list as it comes; on leaving,
    killed if still running, and its output read to the end."""
    proc = _cli("serve", *args, cwd=cwd, env=env)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(10)


def _stop(proc: subprocess.Popen[str], timeout: float) -> None:
    """SIGTERM, as a service manager stops it, and wait for the exit."""
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=timeout)


def test_serve_collects_monitors_and_alerts_in_one_process(tmp_path: Path) -> None:
    """The live loop as the README gives it, on examples/live.yaml (port and store moved)."""
    port = free_port()
    shutil.copy(ROOT / "examples" / "live.yaml", tmp_path / "driftscope.yaml")
    env = {**os.environ, "DRIFTSCOPE_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
           "DRIFTSCOPE_STORE__DSN": f"chdb://{tmp_path / 'db'}",
           "DRIFTSCOPE_HEARTBEAT_DIR": str(tmp_path / "beats")}
    with _serving("--broker", "--interval", "1", "--settle", "0s", "--store-port", "0",
                  cwd=tmp_path, env=env) as (proc, lines):
        wait_for_port("127.0.0.1", port, timeout=60)
        time.sleep(1.0)  # past ensure_topics
        # 30 windows of 1,000 events (a simulated hour is 0.5 s here), drift from the 16th
        sim = _cli("simulate", "instantaneous-covariate", "--rate", "2000", "--speed", "7200",
                   "--duration", "15s", "--intensity", "high", cwd=tmp_path, env=env)
        out, _ = sim.communicate(timeout=120)
        assert sim.returncode == 0 and "lost 0" in out, out
        deadline = time.monotonic() + 120
        while not any("[ALERT]" in line for line in lines) and time.monotonic() < deadline:
            assert proc.poll() is None, "".join(lines)
            time.sleep(0.5)
        text = "".join(lines)
        assert "[ALERT] demo / demo-drift" in text, text
        assert "since 2026-01-01 15:00 UTC" in text, text  # the onset window: not before
        # while serve holds the embedded store, the other commands reach it through the
        # HTTP port it serves the store on (before: "another process holds it")
        assert "answers ClickHouse's HTTP interface on http://127.0.0.1:" in text, text
        listing = _cli("alerts", "list", "--model", "demo", cwd=tmp_path, env=env)
        out, _ = listing.communicate(timeout=120)
        assert listing.returncode == 0 and "demo-drift" in out and "firing" in out, out
        health = _cli("health", "monitor", cwd=tmp_path, env=env)
        out, _ = health.communicate(timeout=120)
        assert health.returncode == 0 and "last healthy pass" in out, out
        _stop(proc, 60)
    text = "".join(lines)
    assert proc.returncode == 0, text
    assert "Traceback" not in text
    assert "SIGTERM received" in text and "stopped" in text
    for service in ("monitor", "alerts"):  # (before: healthy for --max-age after the stop)
        health = _cli("health", service, cwd=tmp_path, env=env)
        out, _ = health.communicate(timeout=120)
        assert health.returncode != 0 and f"{service}: stopped" in out, out
    # the store is released and holds the stream: another process opens it and reads the alert
    assert not (tmp_path / "db" / "driftscope-endpoint.json").exists()
    listing = _cli("alerts", "list", "--model", "demo", cwd=tmp_path, env=env)
    out, _ = listing.communicate(timeout=120)
    assert listing.returncode == 0 and "demo-drift" in out, out


def test_metrics_on_a_taken_port_is_a_one_line_error() -> None:
    from prometheus_client import CollectorRegistry

    from driftscope.errors import ConfigError
    from driftscope.telemetry import serve_metrics

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            serve_metrics(CollectorRegistry(), port)


def test_a_signal_while_starting_stops_at_once(tmp_path: Path) -> None:
    """A Kafka that does not answer keeps the start-up waiting (30 s); SIGTERM then stops
    the command at once, cleanly, instead of when the start-up gives up."""
    shutil.copy(ROOT / "examples" / "live.yaml", tmp_path / "driftscope.yaml")
    env = {**os.environ, "DRIFTSCOPE_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
           "DRIFTSCOPE_STORE__DSN": f"chdb://{tmp_path / 'db'}"}
    proc = _cli("serve", cwd=tmp_path, env=env)
    try:
        time.sleep(4)  # waiting on Kafka
        assert proc.poll() is None
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert time.monotonic() - started < 10, out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "SIGTERM: stopped while starting" in out and "Traceback" not in out, out


def _wait_for(text: str, lines: list[str], proc: subprocess.Popen[str],
              timeout: float = 60) -> None:
    """Wait until a line of ``proc``'s output (read into ``lines``) holds ``text``."""
    deadline = time.monotonic() + timeout
    while not any(text in line for line in lines):
        assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
        time.sleep(0.2)


COUNT = """
import sys
from driftscope.store.clickhouse import Store
print(Store(sys.argv[1], database="driftscope").count("events"))
"""


def test_a_stop_reads_what_the_embedded_broker_still_holds(tmp_path: Path) -> None:
    """`serve --broker` keeps messages in memory only: at a SIGTERM, what the broker has
    acknowledged but the collector not read yet is read and stored before the broker
    stops (before: the collector flushed its batch and left; the rest died with the
    broker, thousands of acknowledged events)."""
    from driftscope.client import PredictionLogger

    port = free_port()
    shutil.copy(ROOT / "examples" / "live.yaml", tmp_path / "driftscope.yaml")
    dsn = f"chdb://{tmp_path / 'db'}"
    env = {**os.environ, "DRIFTSCOPE_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
           "DRIFTSCOPE_STORE__DSN": dsn}
    with _serving("--broker", "--interval", "1", "--no-store-http", cwd=tmp_path,
                  env=env) as (proc, lines):
        _wait_for("assigned partitions", lines, proc)  # the events go in while it reads
        n = 20_000
        with PredictionLogger(f"127.0.0.1:{port}", linger_ms=50) as logger:
            for i in range(n):
                logger.log("demo", {"age": 30 + i % 40, "plan": "basic"}, {"score": 0.5})
            assert logger.flush(60)  # every event acknowledged by the broker
            assert logger.stats.sent == n
        _stop(proc, 120)  # at once: the collector is still behind
    out = "".join(lines)
    assert proc.returncode == 0, out
    count = subprocess.run([sys.executable, "-c", COUNT, dsn], capture_output=True,
                           text=True, timeout=120, cwd=tmp_path)
    assert count.stdout.strip() == str(n), out + count.stderr
    assert "still unread" not in out and "Traceback" not in out, out


def test_serve_without_a_monitor_says_nothing_is_judged(tmp_path: Path) -> None:
    """Found live: `serve --broker` with no configuration stored events, judged none, and
    said so only as "monitors none" in an INFO line."""
    env = {**os.environ, "DRIFTSCOPE_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
           "DRIFTSCOPE_STORE__DSN": f"chdb://{tmp_path / 'db'}"}
    with _serving("--broker", "--no-store-http", cwd=tmp_path, env=env) as (proc, lines):
        _wait_for("Ctrl-C stops", lines, proc)
        _stop(proc, 30)
    out = "".join(lines)
    assert "WARNING driftscope.serve serve: no monitor is configured: events are stored, " \
           "nothing is judged" in out, out


def test_an_embedded_broker_that_dies_stops_serve_within_seconds(tmp_path: Path) -> None:
    """Found operating it: after the broker was killed, serve noticed only after its next
    pass (`--interval`), then spent 34 s draining a broker that could not answer; and a
    collector caught in a request to it (its partitions just assigned) held the stop for
    kafka-python's 30 s (in 1 run of 3)."""
    port = free_port()
    env = {**os.environ, "DRIFTSCOPE_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
           "DRIFTSCOPE_STORE__DSN": f"chdb://{tmp_path / 'db'}"}
    shutil.copy(ROOT / "examples" / "live.yaml", tmp_path / "driftscope.yaml")
    with _serving("--broker", "--interval", "60", "--no-store-http", cwd=tmp_path,
                  env=env) as (proc, lines):
        _wait_for("assigned partitions", lines, proc)
        found = subprocess.run(["pgrep", "-f", "--", f"--listener-url tcp://127.0.0.1:{port}"],
                               capture_output=True, text=True, check=True)
        killed = time.monotonic()
        for pid in found.stdout.split():
            os.kill(int(pid), signal.SIGKILL)
        proc.wait(timeout=60)
        took = time.monotonic() - killed
    out = "".join(lines)
    assert proc.returncode != 0 and "exited by itself" in out, out
    assert took < 20, (took, out)  # (before: over 60)
