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


def test_schema_violations_say_what_broke(store: Store) -> None:
    """The alert's note names the most frequent reasons and a column: before, only
    ``schema_violations 3 > 0``."""
    from driftscope.alerts.messages import note

    t0 = datetime(2026, 3, 1, 4, tzinfo=UTC)
    D = S.DEAD_LETTERS
    errors = [("type_change", "zip: was numeric, now categorical")] * 2 + [
        ("schema", "age: not a number")]
    store.insert(D, [("t", 0, k, "m", r, e, b"{}", 2, t0, t0)
                     for k, (r, e) in enumerate(errors)], D.columns)
    got = schema_violations(store, "m", t0, t0 + timedelta(hours=1), QualitySpec())
    assert got.bad and got.details["reasons"] == [
        ["type_change", "zip: was numeric, now categorical", 2], ["schema", "age: not a number", 1]]
    assert note("quality", "schema_violations", got.details) == (
        "2 type_change (zip: was numeric, now categorical); 1 schema (age: not a number)")


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
    # a feature whose reference saw every value keeps the configured limit in a large
    # window; in a small one, what sampling puts beyond it (one new value in 90 is not a
    # finding: a reference of 300 misses a category of 1 % once in 20)
    dense = np.array(["a", "b", "c"] * 1000, dtype=object)
    assert column_checks("plan", dense, dense[:1000], QualitySpec())[1].limit == 0.02
    small = column_checks("plan", dense[:300], dense[:90], QualitySpec())[1]
    assert 0.02 < small.limit < 0.05


def test_out_of_range_allows_for_a_small_reference() -> None:
    """A new value lies beyond the range of n reference values with chance 2/(n + 1): with
    a reference of 30, windows like it were flagged 48 % of the time."""
    rng = np.random.default_rng(1)
    ref = rng.normal(size=30)
    flagged = sum(column_checks("x", ref, rng.normal(size=200), QualitySpec())[1].bad
                  for _ in range(500))
    assert flagged <= 25  # (the range of 30 values itself varies: some references are narrow)
    assert column_checks("x", ref, rng.normal(size=200) + 3, QualitySpec())[1].bad


# Clean small windows: the normal-approximation limits (3 standard errors) were far too
# loose where a window expects less than a few events, so clean data paged. The checks now
# flag a count only when its exact (beta-)binomial upper tail is below 0.135 % (3 sigma,
# one-sided) under the rate expected with nothing changed, as well as over the allowance.

def _flagged(metric: str, ref: np.ndarray, draw, windows: int) -> float:
    bad = 0
    for _ in range(windows):
        found = {r.metric: r for r in column_checks("x", ref, draw(), QualitySpec())}
        bad += metric in found and found[metric].bad
    return bad / windows


@pytest.mark.parametrize(("p", "n"), [(0.01, 30), (0.01, 50), (0.02, 30), (0.005, 30)])
def test_a_rarely_missing_feature_is_not_flagged_in_clean_small_windows(p: float, n: int) -> None:
    """1 % missing in the reference, windows of 30: two missing (6.7 %) were over a limit of
    6.4 %, and 3.6 % of clean windows were flagged (1.4 % at 50 events)."""
    rng = np.random.default_rng(11)
    ref = np.where(rng.random(2000) < p, np.nan, 1.0)
    rate = _flagged("missing_rate", ref, lambda: np.where(rng.random(n) < p, np.nan, 1.0), 3000)
    assert rate < 0.005


@pytest.mark.parametrize(("miss", "m", "n"), [(0.9, 2000, 40), (0.95, 4000, 60)])
def test_out_of_range_on_a_few_present_values_is_not_flagged_in_clean_windows(
    miss: float, m: int, n: int
) -> None:
    """A feature missing 90 % of the time, windows of 40 events (about 4 present values):
    one beyond the range was over a limit of ~0.21, in 2.6 % of clean windows (3.2 % at
    95 % missing and 60 events)."""
    rng = np.random.default_rng(12)

    def col(k: int) -> np.ndarray:
        return np.where(rng.random(k) < miss, np.nan, rng.normal(size=k))

    assert _flagged("out_of_range", col(m), lambda: col(n), 3000) < 0.005


def test_one_stray_category_in_a_small_window_is_not_flagged() -> None:
    """Every reference category seen at least twice: the limit was new_categories_max alone,
    so one stray value in 40 events (0.025 > 0.02) was a finding; two are not noise."""
    ref = np.array(["a", "b", "c"] * 700, dtype=object)
    one = column_checks("c", ref, np.array(["a"] * 39 + ["zz"], dtype=object), QualitySpec())[1]
    assert one.metric == "new_categories" and not one.bad and one.value <= one.limit
    two = column_checks("c", ref, np.array(["a"] * 38 + ["zz"] * 2, dtype=object),
                        QualitySpec())[1]
    assert two.bad and two.value > two.limit


def test_a_rare_category_the_reference_missed_is_not_flagged_in_small_windows() -> None:
    """A legitimate region at 0.2 % of traffic that a 2,000-event reference happened not to
    contain: 7 of 100 clean 40-event windows were flagged."""
    rng = np.random.default_rng(13)
    regions = np.array(["north", "south", "east", "west", "central", "islands"], dtype=object)
    share = np.array([0.3, 0.25, 0.2, 0.15, 0.098, 0.002])
    ref = regions[rng.choice(5, 2000, p=share[:5] / share[:5].sum())]
    assert _flagged("new_categories", ref, lambda: regions[rng.choice(6, 40, p=share)],
                    2000) < 0.005


def _missing_at(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    return np.where(rng.random(n) < p, np.nan, 1.0)


@pytest.mark.parametrize("n", [1000, 50])
def test_real_faults_are_still_found(n: int) -> None:
    """No power lost: a 10-point rise of the missing rate, a unit change and 5 % new
    categories are flagged in 1,000-event windows; in 50-event windows, where a 10-point
    rise is within sampling noise, a rise from 1 % to 21 % or from 30 % to 70 % missing
    and 10 % new categories."""
    rng = np.random.default_rng(14)
    windows = 200
    for p, q in ((0.01, 0.11), (0.3, 0.4)) if n == 1000 else ((0.01, 0.21), (0.3, 0.7)):
        ref = _missing_at(rng, 2000, p)
        assert _flagged("missing_rate", ref, lambda q=q: _missing_at(rng, n, q), windows) >= 0.95
    ref = rng.normal(40, 10, 2000)  # km to miles: a quarter of the values beyond the range
    assert _flagged("out_of_range", ref, lambda: rng.normal(40, 10, n) * 1.609,
                    windows) >= 0.99
    if n == 1000:  # one event in ten in grams
        assert _flagged("out_of_range", ref, lambda: rng.normal(40, 10, n) * np.where(
            rng.random(n) < 0.1, 1000, 1), windows) >= 0.95
    cats = np.array(list("abcde"), dtype=object)
    ref = cats[rng.integers(0, 5, 2000)]
    new = 0.05 if n == 1000 else 0.10
    assert _flagged("new_categories", ref, lambda: np.where(
        rng.random(n) < new, "zz", cats[rng.integers(0, 5, n)]).astype(object),
        windows) >= 0.9


def test_a_stuck_value_is_named_and_natural_repeats_are_not() -> None:
    """A continuous feature stuck at its median in 30 % of 50 events (the simulators'
    low stuck fault) is a ``stuck_value`` finding naming the value; before it was at most
    drift, and at 50 events not even that. Integer ages, a skewed price rounded to cents,
    a 0/1 flag and a count of children are not."""
    rng = np.random.default_rng(11)
    ref = rng.normal(40, 10, 2000)
    cur = rng.normal(40, 10, 50)
    cur[:15] = 40.0
    stuck = {r.metric: r for r in column_checks("age", ref, cur, QualitySpec())}["stuck_value"]
    assert stuck.bad and stuck.value == 0.3 and stuck.details["value"] == 40.0
    clean = {
        "integer age": lambda k: rng.integers(18, 90, k).astype(float),
        "rounded age": lambda k: np.round(rng.normal(40, 12, k)),
        "price in cents": lambda k: np.round(rng.lognormal(3, 1, k), 2),
        "flag": lambda k: rng.integers(0, 2, k).astype(float),
        "children": lambda k: rng.poisson(1.2, k).astype(float),
    }
    for name, draw in clean.items():
        ref = draw(2000)
        for n in (30, 50):  # (in review: the top of ~70 ages in 30 events, 4 % flagged)
            flagged = sum(r.metric == "stuck_value" and r.bad
                          for _ in range(1000) for r in column_checks(name, ref, draw(n),
                                                                       QualitySpec()))
            assert flagged <= 5, (name, n)


def test_a_segment_is_held_to_its_own_references_share_of_a_value() -> None:
    """A flat fee per country: 70 % of a country's orders pay its fee, which is 3 % of
    the whole reference's fees. The country was held to the whole reference's 3 % and
    flagged as stuck in every window (600 of 600 segment rows, nothing changed); held to
    its own reference, it is a value frequent there, not a stuck one. A segment the
    reference lacks is still held to the whole reference."""
    rng = np.random.default_rng(3)
    fees = np.round(3.0 + 0.25 * rng.integers(0, 25, 20_000), 2)
    whole = np.where(rng.random(20_000) < 0.7, fees, np.round(rng.uniform(8, 30, 20_000), 2))
    own = np.where(rng.random(800) < 0.7, 4.5, np.round(rng.uniform(8, 30, 800), 2))
    cur = np.where(rng.random(60) < 0.7, 4.5, np.round(rng.uniform(8, 30, 60), 2))
    got = _rates(column_checks("fee", own, cur, QualitySpec(), domain=whole, noise=3.0))
    assert "stuck_value" not in got or not got["stuck_value"][1]
    ages = rng.normal(40, 10, 2000)  # a continuous feature stuck in a segment: still found
    stuck = np.r_[np.full(30, 41.0), rng.normal(40, 10, 30)]
    got = _rates(column_checks("age", ages[:600], stuck, QualitySpec(), domain=ages,
                               noise=3.0))
    assert got["stuck_value"][1]
