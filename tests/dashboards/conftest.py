"""One filled store for the dashboard tests (filling takes seconds; the SQL is read-only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dashfill import fill, filled_database

from driftscope.store.clickhouse import Store


@pytest.fixture(scope="module")
def filled_store(chdb_dsn: str) -> Iterator[Store]:
    """A migrated database under the run's single chDB path, filled by :func:`fill`."""
    yield from filled_database(chdb_dsn, "dash", fill)
