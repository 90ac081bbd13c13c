"""The store's errors a user meets: a database without tables, an embedded store held by
another process. Each is one line that says what to do."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from driftscope.errors import StoreError, StoreUnavailable
from driftscope.store.clickhouse import Store


def test_a_database_without_the_tables_says_run_migrate(chdb_dsn: str) -> None:
    empty = Store(chdb_dsn, database=f"t_{uuid.uuid4().hex[:12]}")
    try:
        with pytest.raises(StoreError) as info:
            empty.query("SELECT count() FROM events")
    finally:
        empty.drop_database()
    message = str(info.value)
    assert "\n" not in message
    assert "has no table events" in message
    assert "driftscope migrate" in message and empty.database in message


def test_an_embedded_store_held_by_another_process_says_so(
    store: Store, chdb_dsn: str, tmp_path: Path
) -> None:
    # this test process holds chdb_dsn open (the store fixture); a CLI process cannot
    env = {**os.environ, "DRIFTSCOPE_STORE__DSN": chdb_dsn}
    proc = subprocess.run(
        [sys.executable, "-m", "driftscope.cli", "migrate"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    ours = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(ours) == 1 and ours[0].startswith("error:"), proc.stderr  # not chDB's own
    line = ours[0]
    assert f"process {os.getpid()}" in line  # who holds it, from chDB's status file
    assert "one process at a time" in line
    assert "http://" in line  # the way out for services side by side: a ClickHouse server
    assert "Traceback" not in proc.stderr


def test_migrate_waits_for_a_store_that_starts_answering(store: Store, tmp_path: Path) -> None:
    """docker compose starts `migrate` once ClickHouse's health check passes, which its
    first start can pass on the loopback server of its init scripts: `migrate --wait`
    tries again until the store answers (before: refused, exit 2, and the services that
    wait for it never started); without it, a store that does not answer fails at once."""
    import socket
    import threading
    import time

    import yaml
    from typer.testing import CliRunner

    from driftscope.cli import app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "driftscope.yaml"
    cfg.write_text(yaml.safe_dump({"store": {"dsn": f"http://127.0.0.1:{port}",
                                             "database": store.database}}))
    env = {"DRIFTSCOPE_CLICKHOUSE_PASSWORD": "s3cret"}
    at_once = CliRunner(env=env).invoke(app, ["migrate", "-c", str(cfg)])
    assert isinstance(at_once.exception, StoreUnavailable)  # (main() makes it one line)
    store._password = "s3cret"  # (what DRIFTSCOPE_CLICKHOUSE_PASSWORD sets on the holder)
    served: list[object] = []
    later = threading.Timer(2.0, lambda: served.append(store.serve_http(port)))
    later.start()
    try:
        t0 = time.monotonic()
        out = CliRunner(env=env).invoke(app, ["migrate", "--wait", "60s", "-c", str(cfg)])
        assert out.exit_code == 0, out.output
        assert "none needed" in out.output and time.monotonic() - t0 >= 1.5
    finally:
        later.join()
        for http in served:
            http.stop()  # type: ignore[attr-defined]
