"""`driftscope broker` as a service: stops its child on SIGTERM/SIGHUP, fails on a taken
port, and fails when the broker dies under it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftscope.broker import LocalBroker, free_port


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _stoppable() -> None:
    """The child's stop signals as a terminal leaves them: a test run under `nohup`
    ignores SIGHUP, and the broker keeps an ignored SIGHUP ignored, by design."""
    for s in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)


def _start(port: int, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "driftscope.cli", "broker", "--port", str(port),
         "--partitions", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
        preexec_fn=_stoppable,
    )


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, int]]:
    """`driftscope broker` up and serving: (the CLI process, the broker's pid, its port)."""
    port = free_port()
    proc = _start(port, tmp_path)
    child = None
    try:
        deadline = time.monotonic() + 60
        while child is None and time.monotonic() < deadline and proc.poll() is None:
            kids = _children(proc.pid)
            if kids and _listening(port):
                child = kids[0]
            else:
                time.sleep(0.1)
        assert child is not None, "the broker did not start"
        # past ensure_topics and its line: the command is waiting on the broker (a fixed
        # second was not always enough on a loaded machine)
        assert proc.stderr is not None
        lines = iter(proc.stderr.readline, "")  # ('' once the command has exited)
        assert any("broker on" in line for line in lines), "the broker line never came"
        time.sleep(0.5)
        yield proc, child, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if child is not None and _alive(child):  # the broker this test started, by its pid
            os.kill(child, signal.SIGKILL)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_stops_the_broker_too(
    running: tuple[subprocess.Popen[str], int, int], signum: int
) -> None:
    proc, child, port = running
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert not _alive(child)
    assert not _listening(port)
    assert "Traceback" not in err


def test_a_broker_that_dies_is_an_error(running: tuple[subprocess.Popen[str], int, int]) -> None:
    proc, child, _port = running
    os.kill(child, signal.SIGKILL)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and "exited" in last
    assert "Traceback" not in err


def test_a_taken_port_is_a_one_line_error(broker: LocalBroker, tmp_path: Path) -> None:
    proc = _start(int(str(broker.port)), tmp_path)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert str(broker.port) in lines[0] and "in use" in lines[0]
    assert "broker on" not in err


def test_a_killed_command_takes_the_broker_with_it(
    running: tuple[subprocess.Popen[str], int, int],
) -> None:
    """SIGKILL cannot be caught: Linux stops the broker for it (parent-death signal), so
    the port is free for the next `driftscope broker` instead of held by an orphan."""
    proc, child, port = running
    proc.kill()
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while (_alive(child) or _listening(port)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)
    assert not _listening(port)


def test_a_start_interrupted_leaves_no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A signal while the broker starts (a BaseException out of the wait for its port):
    the broker process is stopped before the exception goes on."""
    import driftscope.broker as broker_module

    spawned: list[int] = []
    real_popen = subprocess.Popen

    def popen(*a: object, **k: object) -> subprocess.Popen[bytes]:
        proc = real_popen(*a, **k)  # type: ignore[call-overload]
        spawned.append(proc.pid)
        return proc

    def interrupted(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(broker_module.subprocess, "Popen", popen)
    monkeypatch.setattr(broker_module, "wait_for_port", interrupted)
    b = LocalBroker()
    with pytest.raises(KeyboardInterrupt):
        b.start()
    assert spawned and not _alive(spawned[0])
    assert not b.running()


def test_an_unreachable_kafka_is_one_line_within_the_timeout_asked() -> None:
    """kafka-python's own bootstrap wait (30 s) outlasted `ensure_topics`' timeout: a dead
    address took 30 s to report with timeout 15, 33 s in `serve`."""
    from driftscope.broker import ensure_topics
    from driftscope.errors import BrokerError

    port = free_port()
    started = time.monotonic()
    with pytest.raises(BrokerError, match=f"cannot reach Kafka at 127.0.0.1:{port}"):
        ensure_topics(f"127.0.0.1:{port}", ["t"], timeout=2.0)
    assert time.monotonic() - started < 10
