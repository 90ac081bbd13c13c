"""The merged views of a profile-only model's windows are cached per process
(:data:`driftscope.monitor.profiled.VIEWS`): a window of many parts is deserialized and
merged once, read again only when its parts change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from driftscope.collector.profiling import merge_profiles
from driftscope.monitor.frame import Frame, Profiled, read_events
from driftscope.monitor.profiled import VIEWS, ViewCache
from driftscope.monitor.seed import profile_part
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = timedelta(minutes=10)
NAMES = ["x", "plan", "output:pred"]


def events(rng: np.random.Generator, n: int) -> dict[str, Any]:
    x = rng.normal(size=n)
    x[rng.uniform(size=n) < 0.05] = np.nan
    return {"x": x, "plan": rng.choice(np.array(["a", "b", "c"], dtype=object), n),
            "output:pred": rng.uniform(size=n)}


def write(store: Store, model: str, start: datetime, chunks: list[dict[str, Any]],
          partition: int = 0, offset: int = 0) -> None:
    """One ``profiles`` row per chunk (a flush), in the window starting at ``start``."""
    rows = []
    for cols in chunks:
        n = len(cols["x"])
        rows.append((model, start, int(W.total_seconds()), partition, offset,
                     offset + n - 1, n, profile_part(cols), start + W / 2))
        offset += n
    store.insert(S.PROFILES, rows, S.PROFILES.columns)


def read(store: Store, model: str, start: datetime, end: datetime) -> Frame:
    return read_events(store, model, start, end, NAMES,
                       source=Profiled(int(W.total_seconds()), seed=3))


def same(a: Frame, b: Frame) -> bool:
    def eq(u: np.ndarray, v: np.ndarray) -> bool:
        return u.dtype == v.dtype and np.array_equal(
            u, v, equal_nan=u.dtype.kind == "f")
    return (eq(a.timestamps, b.timestamps) and a.columns.keys() == b.columns.keys()
            and all(eq(a.columns[k], b.columns[k]) for k in a.columns)
            and a.sketch_k == b.sketch_k)


@pytest.fixture
def deserialized(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many profile parts whylogs deserialized (one entry per part)."""
    from whylogs.core import DatasetProfileView

    real = DatasetProfileView.deserialize
    calls: list[int] = []

    def counted(data: bytes) -> Any:
        calls.append(1)
        return real(data)

    monkeypatch.setattr(DatasetProfileView, "deserialize", staticmethod(counted))
    yield calls


def test_a_window_of_many_parts_is_merged_once(store: Store, deserialized: list[int]) -> None:
    rng = np.random.default_rng(1)
    chunks = [events(rng, 5) for _ in range(200)]
    write(store, "p", T0, chunks)
    write(store, "p", T0 + W, [events(rng, 5) for _ in range(50)])
    # the same events of the first window as one part, for another model
    whole = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    write(store, "one", T0, [whole])

    first = read(store, "p", T0, T0 + 2 * W)
    assert first.n == 1250 and len(deserialized) == 250
    second = read(store, "p", T0, T0 + 2 * W)
    assert len(deserialized) == 250  # nothing deserialized again
    assert same(first, second)
    # a read of one of the windows (as the monitor's, then the reference's) is the same too
    assert same(read(store, "p", T0, T0 + W), first.between(T0, T0 + W))
    assert len(deserialized) == 250
    # a cache emptied (another process, a restart) reads the views the first read stored
    # (merged_profiles): one profile per window, not every part
    VIEWS.clear()
    assert same(read(store, "p", T0, T0 + 2 * W), first)
    assert len(deserialized) == 250 + 2
    assert store.count(S.MERGED_PROFILES) == 2
    # 1,000 values: the sketches hold all of them, as from one part
    one = read(store, "one", T0, T0 + W)
    assert one.n == 1000
    for name in NAMES:
        assert np.array_equal(np.sort(one.columns[name]), np.sort(first.columns[name][:1000]),
                              equal_nan=name != "plan")


def test_a_late_part_is_read_with_its_window(store: Store, deserialized: list[int]) -> None:
    rng = np.random.default_rng(2)
    write(store, "p", T0, [events(rng, 5) for _ in range(200)])
    write(store, "p", T0 + W, [events(rng, 5) for _ in range(10)])
    assert read(store, "p", T0, T0 + 2 * W).n == 1050
    assert len(deserialized) == 210
    # another partition's flush into the first window, after it was read
    late = events(rng, 7)
    late["x"][:] = 100.0
    write(store, "p", T0, [late], partition=1)
    got = read(store, "p", T0, T0 + 2 * W)
    assert got.n == 1057
    assert len(deserialized) == 210 + 201  # the first window merged again, not the second
    x = got.between(T0, T0 + W).columns["x"]
    assert len(x) == 1007 and np.sum(x == 100.0) == 7
    assert same(read(store, "p", T0, T0 + 2 * W), got) and len(deserialized) == 411


def test_stores_do_not_share_views(store: Store, chdb_dsn: str) -> None:
    other = Store(chdb_dsn, database=store.database + "_b")
    other.migrate()
    try:
        rng = np.random.default_rng(3)
        a, b = events(rng, 50), events(rng, 50)  # the same figures, other values
        write(store, "p", T0, [a])
        write(other, "p", T0, [b])
        got_a, got_b = read(store, "p", T0, T0 + W), read(other, "p", T0, T0 + W)
        assert np.array_equal(np.sort(got_a.columns["output:pred"]), np.sort(a["output:pred"]))
        assert np.array_equal(np.sort(got_b.columns["output:pred"]), np.sort(b["output:pred"]))
    finally:
        other.drop_database()


def test_the_cache_drops_the_least_recently_used() -> None:
    rng = np.random.default_rng(4)
    view = merge_profiles([profile_part(events(rng, 20))])
    size = 4 * len(view.serialize())
    cache = ViewCache(max_windows=3, max_bytes=2 * size + 1)  # two views by their memory
    cache.put(("a",), (1, 20, 0), view)
    cache.put(("b",), (1, 20, 0), view)
    assert cache.get(("a",), (1, 20, 0)) is not None  # a used last: b goes first
    cache.put(("c",), (1, 20, 0), view)
    assert len(cache) == 2 and cache.bytes == 2 * size
    assert cache.get(("b",), (1, 20, 0)) is None
    assert cache.get(("a",), (1, 20, 0)) is not None
    assert cache.get(("a",), (2, 25, 7)) is None  # other figures: the window changed
    by_count = ViewCache(max_windows=1)
    by_count.put(("a",), (1, 20, 0), view)
    by_count.put(("b",), (1, 20, 0), view)
    assert len(by_count) == 1 and by_count.get(("b",), (1, 20, 0)) is not None
