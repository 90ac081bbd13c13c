"""The store's errors a user meets: a database without tables, an embedded store held by
another process. Each is one line that says what to do."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from driftscope.errors import StoreError
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
