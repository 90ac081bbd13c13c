"""The column checks of one window against its reference (driftscope.monitor.quality)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from driftscope.monitor.config import QualitySpec
from driftscope.monitor.quality import column_checks, schema_violations
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store


def _rates(results: list) -> dict[str, tuple[float, bool]]:
    return {r.metric: (round(r.value, 3), r.bad) for r in results}


def test_a_segment_the_reference_lacks_is_held_to_the_whole_references_missing_rate() -> None:
    whole = np.where(np.arange(1000) % 10 < 3, np.nan, 1.0)  # 30 % missing
    cur = np.where(np.arange(500) % 10 < 3, np.nan, 1.0)
    got = column_checks("x", np.array([], dtype=float), cur, QualitySpec(), domain=whole,
                        noise=3.0)
    assert _rates(got)["missing_rate"] == (0.3, False)
    worse = np.where(np.arange(500) % 10 < 6, np.nan, 1.0)
    assert column_checks("x", np.array([], dtype=float), worse, QualitySpec(), domain=whole,
                         noise=3.0)[0].bad


def test_no_reference_row_no_check() -> None:
    cur = np.array([np.nan, 1.0, 2.0])
    assert column_checks("x", np.array([], dtype=float), cur, QualitySpec()) == []


def test_new_categories_name_the_most_frequent_first() -> None:
    ref = np.array(["a", "b"] * 50, dtype=object)
    cur = np.array(["a"] * 10 + ["z"] * 5 + ["y"] * 7 + [f"id{i}" for i in range(20_000)],
                   dtype=object)
    (_, new) = column_checks("plan", ref, cur, QualitySpec())
    assert new.metric == "new_categories" and new.bad
    assert new.value == (cur.size - 10) / cur.size
    assert new.details["new"][:2] == ["y", "z"]


def test_a_small_window_is_not_flagged_on_the_sampling_noise_of_its_missing_rate() -> None:
    """200 events a window, 30 % missing throughout: the 5-point allowance alone is 1.5
    standard errors, and one window in 13 was flagged with nothing changed."""
    rng = np.random.default_rng(7)
    ref = np.where(rng.uniform(size=2000) < 0.3, np.nan, 1.0)
    flagged = sum(column_checks("x", ref, np.where(rng.uniform(size=200) < 0.3, np.nan, 1.0),
                                QualitySpec())[0].bad for _ in range(2000))
    assert flagged <= 10  # (a limit 3 standard errors away: about 3 in 2,000)


def test_a_large_window_is_held_to_the_configured_allowance() -> None:
    rng = np.random.default_rng(8)
    ref = np.where(rng.uniform(size=60_000) < 0.3, np.nan, 1.0)
    cur = np.where(rng.uniform(size=5000) < 0.37, np.nan, 1.0)  # 7 points more
    (miss, *_) = column_checks("x", ref, cur, QualitySpec())
    assert miss.bad and miss.limit == pytest.approx(float(np.isnan(ref).mean()) + 0.05)


def test_schema_violations_are_counted_in_the_window_of_their_event_time(store: Store) -> None:
    """A replay or a backfill: events of March received in November. The dead letters with
    a readable timestamp count in their event's window; one without counts when received."""
    t0 = datetime(2026, 3, 1, 4, tzinfo=UTC)
    received = datetime(2026, 11, 27, 10, tzinfo=UTC)
    D = S.DEAD_LETTERS
    store.insert(D, [("t", 0, k, "m", "type_change", "x: was numeric", b"{}", 2, received, at)
                     for k, at in enumerate([t0 + timedelta(minutes=5), t0, None])], D.columns)
    spec = QualitySpec()
    hour = timedelta(hours=1)
    assert schema_violations(store, "m", t0, t0 + hour, spec).value == 2
    assert schema_violations(store, "m", t0 + hour, t0 + 2 * hour, spec).value == 0
    assert schema_violations(store, "m", received, received + hour, spec).value == 1
    assert schema_violations(store, "other", t0, t0 + hour, spec).value == 0


def test_new_categories_allow_for_what_a_sparse_reference_has_not_seen() -> None:
    """An id-like feature (Zipf over 100,000 values): a reference of 5,000 sees a fraction
    of them, and every window like it had ~14 % 'new' categories against a 2 % limit. The
    limit now adds the Good-Turing estimate of the unseen mass (values seen once / n)."""
    rng = np.random.default_rng(0)

    def draw(n: int) -> np.ndarray:
        return np.array([f"u{v}" for v in rng.zipf(1.1, n) % 100_000], dtype=object)

    ref = draw(5000)
    flagged = [column_checks("user", ref, draw(1000), QualitySpec())[1] for _ in range(100)]
    assert all(r.metric == "new_categories" for r in flagged)
    assert min(r.value for r in flagged) > 0.05  # far beyond the configured 2 %
    assert sum(r.bad for r in flagged) <= 2
    # a flood of values never seen is still a finding
    flood = np.array([f"bot{i}" for i in range(400)] + list(draw(600)), dtype=object)
    assert column_checks("user", ref, flood, QualitySpec())[1].bad
    # a feature whose reference saw every value keeps the configured limit
    dense = np.array(["a", "b", "c"] * 100, dtype=object)
    assert column_checks("plan", dense, dense[:90], QualitySpec())[1].limit == 0.02


def test_out_of_range_allows_for_a_small_reference() -> None:
    """A new value lies beyond the range of n reference values with chance 2/(n + 1): with
    a reference of 30, windows like it were flagged 48 % of the time."""
    rng = np.random.default_rng(1)
    ref = rng.normal(size=30)
    flagged = sum(column_checks("x", ref, rng.normal(size=200), QualitySpec())[1].bad
                  for _ in range(500))
    assert flagged <= 25  # (the range of 30 values itself varies: some references are narrow)
    assert column_checks("x", ref, rng.normal(size=200) + 3, QualitySpec())[1].bad
