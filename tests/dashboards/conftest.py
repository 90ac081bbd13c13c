"""One filled store for the dashboard tests (filling takes seconds; the SQL is read-only)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from dashfill import fill

from driftscope.store.clickhouse import Store


@pytest.fixture(scope="module")
def filled_store(chdb_dsn: str) -> Iterator[Store]:
    """A migrated database under the run's single chDB path, filled by :func:`fill`."""
    s = Store(chdb_dsn, database=f"dash_{uuid.uuid4().hex[:10]}")
    s.migrate()
    fill(s)
    try:
        yield s
    finally:
        s.drop_database()
