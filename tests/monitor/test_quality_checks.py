"""The column checks of one window against its reference (driftscope.monitor.quality)."""

from __future__ import annotations

import numpy as np
import pytest

from driftscope.monitor.config import QualitySpec
from driftscope.monitor.quality import column_checks


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
