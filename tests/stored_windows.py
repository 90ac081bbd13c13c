"""What monitor tests do to a store besides writing events: close a window as the
collector does, and read back every drift result."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from driftscope.store import schema as S
from driftscope.store.clickhouse import Store


def close_window(store: Store, start: datetime, size: timedelta, n: int,
                 model: str = "m") -> None:
    """The collector closes the window at ``start`` with ``n`` events."""
    store.insert(S.WINDOWS, [(model, start, start + size, int(size.total_seconds()), n, 0,
                              start + size)], S.WINDOWS.columns)


def drift_results(store: Store) -> list[tuple[Any, ...]]:
    """Every result row (window, segment, feature, metric, statistic, threshold, drifted),
    ordered."""
    D = S.DRIFT_RESULTS
    return store.query(
        f"SELECT {D.window_start}, {D.segment}, {D.feature}, {D.metric}, "
        f"round({D.statistic}, 9), round({D.threshold}, 9), {D.drifted} FROM {D} FINAL "
        f"ORDER BY 1, 2, 3, 4")
