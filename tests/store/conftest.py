"""Fixtures of the store's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from driftscope.store import gateway
from driftscope.store.clickhouse import Store


@pytest.fixture
def served(store: Store) -> Iterator[gateway.StoreGateway]:
    """``store`` served on a port of its own (:mod:`driftscope.store.gateway`)."""
    http = store.serve_http(0)
    try:
        yield http
    finally:
        http.stop()
