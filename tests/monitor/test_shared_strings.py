"""A read's text values share their Python strings: one object per value in each
categorical feature, segment and label column (``frame.one_per_value``). Before, the store
gave each row a string of its own (~60 bytes), and the read's record array — held by the
numeric columns, views of it — kept them all: a categorical column held about 9 times a
numeric one's memory, and a monitor's kept read (``monitor_process.kept_reads_bytes``)
fitted that much less."""

from __future__ import annotations

import gc
import sys
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from driftscope.monitor.frame import Frame, concat, one_per_value, read_events, read_labels
from driftscope.monitor.kept import footprint
from driftscope.monitor.seed import write_windows
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = timedelta(minutes=10)
N = 3000  # events a window
WINDOWS = 3
PLANS = np.array([f"plan-{j:03d}-monthly" for j in range(40)], dtype=object)


def _stream(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    plan = rng.choice(PLANS, n)
    plan[rng.random(n) < 0.1] = None  # (missing in a tenth of the events)
    # numbers mostly, a string now and then: read as numbers (a mixed name)
    amount = rng.normal(size=n).astype(object)
    amount[rng.random(n) < 0.02] = "n/a"
    return {"x": rng.normal(size=n), "plan": plan, "amount": amount,
            "output:tier": rng.choice(np.array(["gold", "silver", "bronze"], dtype=object), n),
            "segment:country": rng.choice(np.array(["fr", "de", "it"], dtype=object), n),
            "label": rng.choice(np.array(["churn", "stay"], dtype=object), n)}


def _written(seed: int = 0) -> dict[str, list[Any]]:
    """The columns written by ``write_windows(..., seed=seed)``, in event order."""
    rng = np.random.default_rng(seed)
    cols = [_stream(i, rng, N) for i in range(WINDOWS)]
    return {k: [v for c in cols for v in c[k].tolist()] for k in cols[0]}


@pytest.fixture
def stored(store: Store) -> Store:
    write_windows(store, "m", T0, W, WINDOWS, N, _stream)
    return store


def _read(store: Store, names: list[str], labels: bool = True) -> Frame:
    return read_events(store, "m", T0, T0 + WINDOWS * W, names, labels=labels)


def _objects(column: np.ndarray) -> int:
    return len({id(v) for v in column.tolist() if v is not None})


def _values(column: np.ndarray) -> int:
    return len({v for v in column.tolist() if v is not None})


def test_a_read_holds_the_stored_values_with_one_object_per_value(stored: Store) -> None:
    frame = _read(stored, ["x", "plan", "amount", "output:tier"])
    want = _written()
    assert frame.n == WINDOWS * N
    plan = frame.columns["plan"]
    assert plan.dtype == object and plan.tolist() == want["plan"]  # (None where missing)
    assert [v is None for v in plan] == [v is None for v in want["plan"]]
    assert 0 < sum(v is None for v in plan) < frame.n
    assert frame.columns["output:tier"].tolist() == want["output:tier"]
    assert frame.segments["country"].tolist() == want["segment:country"]
    assert frame.labels is not None and frame.labels.tolist() == want["label"]
    assert list(frame.columns) == ["x", "plan", "amount", "output:tier"]
    assert frame.columns["x"].dtype == np.float64
    amount = frame.columns["amount"]  # (numbers won; the strings are missing)
    assert frame.mixed == {"amount"} and amount.dtype == np.float64
    assert np.array_equal(amount, [np.nan if isinstance(v, str) else v
                                   for v in want["amount"]], equal_nan=True)

    for column in (plan, frame.columns["output:tier"], frame.segments["country"],
                   frame.labels):
        assert _objects(column) == _values(column), column[:5]
    assert _values(plan) == len(PLANS)
    labels = read_labels(stored, "m", T0, T0 + WINDOWS * W)  # (a kept read's, read again)
    assert labels.tolist() == want["label"] and _objects(labels) == 2


def _held(read: Any) -> tuple[Frame, int]:
    """A read and the bytes it holds once returned (``tracemalloc``)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        frame = read()
        gc.collect()
        return frame, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_a_text_column_holds_about_twice_what_a_numeric_one_does(stored: Store) -> None:
    """A read of one categorical column against one of a numeric column: a numeric column
    holds a float a row; a categorical one, a float (NaN) and a pointer a row in the read's
    records, and its 40 strings next to nothing (before: ~60 bytes a row more, about 9
    times the numeric column). Measured as ``kept.footprint`` weighs it and as the memory
    the read holds (``tracemalloc``: the rows' own strings freed, not merely uncounted)."""
    numbers, held_numbers = _held(lambda: _read(stored, ["x"], labels=False))
    text, held_text = _held(lambda: _read(stored, ["plan"], labels=False))
    assert text.columns["plan"].dtype == object and text.n == numbers.n == WINDOWS * N
    column = 8 * numbers.n  # (a numeric column's floats)
    by_footprint = footprint(text) - footprint(numbers) + column
    by_memory = held_text - held_numbers + column
    assert by_footprint < 2.2 * column, by_footprint / column
    assert by_memory < 2.3 * column, by_memory / column
    for frame, held in ((numbers, held_numbers), (text, held_text)):
        assert abs(footprint(frame) - held) < 0.1 * held, (footprint(frame), held)
    both, held_both = _held(lambda: _read(stored, ["x", "plan", "output:tier"]))
    assert abs(footprint(both) - held_both) < 0.1 * held_both, (footprint(both), held_both)


def test_the_footprint_of_reads_put_together_counts_each_reads_objects() -> None:
    """What ``kept.footprint`` weighs: each row's own strings, or a read's few shared ones —
    and a kept lead and a pass's new read, concatenated: two objects per value."""
    n = 50_000
    ts = np.arange(n).astype("datetime64[ms]")
    values = np.array([f"category {i % 30:05d}" for i in range(n)], dtype=object)
    size = sys.getsizeof(values[0])  # (each string's)
    own = Frame(ts, {"c": values})  # (each row's own string)
    shared = Frame(ts, {"c": one_per_value(values)})
    assert _objects(own.columns["c"]) == n and _objects(shared.columns["c"]) == 30
    assert footprint(own) == pytest.approx(2 * 8 * n + n * size, rel=0.01)
    assert footprint(shared) == pytest.approx(2 * 8 * n + 30 * size, rel=0.01)
    assert footprint(concat(shared, shared)) == pytest.approx(2 * 2 * 8 * n + 30 * size,
                                                              rel=0.01)
    fresh = np.array(["".join(v) for v in values.tolist()], dtype=object)
    two = concat(shared, Frame(ts, {"c": one_per_value(fresh)}))
    assert _objects(two.columns["c"]) == 60
    assert footprint(two) == pytest.approx(2 * 2 * 8 * n + 60 * size, rel=0.01)


def test_one_per_value_keeps_values_none_and_unique_columns() -> None:
    assert one_per_value(np.empty(0, dtype=object)).tolist() == []
    nothing = np.array([None] * 5, dtype=object)
    assert one_per_value(nothing).tolist() == [None] * 5
    mixed = np.array(["a b", None, "".join(["a", " b"]), "", None, ""], dtype=object)
    got = one_per_value(mixed)
    assert got.tolist() == mixed.tolist() and got.dtype == object
    assert got[0] is got[2] and got[3] is got[5] and got[1] is None and got[4] is None
    ids = np.array([f"id-{i}" for i in range(5000)], dtype=object)  # (nothing to share)
    assert one_per_value(ids) is ids
    # mostly distinct (4,000 values in 5,000 rows): little to share, hashing costs most
    many = np.array([f"v{i % 4000}" for i in range(5000)], dtype=object)
    assert one_per_value(many) is many
