"""A traffic cycle is no volume fault: a window like the same window a day or a week
before is not flagged, without a seasonal reference (before: a fall is kept out of the
volume history, so daily windows of 400 events on weekends against 1,000 on weekdays were
flagged on every weekend day, for good, and a business's quiet nights every night). An
outage is still flagged in every window, also on its second day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

MONDAY = datetime(2026, 1, 5, tzinfo=UTC)
D = S.DRIFT_RESULTS


def _config(window: str, reference: dict[str, Any]) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": window}], "alerts": {"console": False},
        "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                      "persistence": {"enabled": False}, "reference": reference}]})


def _gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    return {"x": rng.normal(size=n)}


def _volume(store: Store) -> dict[datetime, tuple[int, dict[str, Any]]]:
    rows = store.query(f"SELECT {D.window_start}, {D.drifted}, {D.details} FROM {D} FINAL "
                       f"WHERE {D.metric} = 'volume' AND {D.feature} = '*'")
    import json
    return {start.replace(tzinfo=UTC): (int(bad), json.loads(details))
            for start, bad, details in rows}


def _counts(rng: np.random.Generator, levels: list[int]) -> list[int]:
    return [int(rng.poisson(level)) for level in levels]


@pytest.mark.parametrize("reference", ["previous", "fixed"])
def test_weekends_are_learnt_from_the_week_before(store: Store, reference: str) -> None:
    days = 42
    levels = [400 if (MONDAY + timedelta(days=i)).weekday() >= 5 else 1000
              for i in range(days)]
    sizes = _counts(np.random.default_rng(1), levels)
    write_windows(store, "m", MONDAY, timedelta(days=1), days, lambda i: sizes[i], _gen,
                  seed=1)
    ref = {"kind": "previous"} if reference == "previous" else {
        "kind": "fixed", "start": MONDAY.isoformat(),
        "end": (MONDAY + timedelta(days=7)).isoformat()}
    Monitor(store, _config("1d", ref)).run_once()
    vol = _volume(store)
    weekends = [d for d in vol if d.weekday() >= 5]
    assert len(weekends) == 10 and not [d for d, (bad, _) in vol.items() if bad]
    # (a Saturday like the one before; a Sunday like that, or like its Saturday)
    assert all(vol[d][1]["period"] == "1w" for d in weekends if d.weekday() == 5)


def test_quiet_nights_are_learnt_and_an_outage_is_still_found(store: Store) -> None:
    """Hourly windows: 500 events from 08:00 to 20:00, 100 at night. The first day and
    night may be flagged (nothing says yet that they are the cycle), the next ones are
    not; an outage of 30 hours from day 5 at 10:00 (5 events an hour) is flagged in each
    of its windows, its second day's too (the day before is no normal: the traffic never
    came back)."""
    hours = 24 * 7
    levels = [500 if 8 <= h % 24 < 20 else 100 for h in range(hours)]
    outage = range(4 * 24 + 10, 4 * 24 + 40)
    for h in outage:
        levels[h] = 5
    sizes = _counts(np.random.default_rng(2), levels)
    write_windows(store, "m", MONDAY, timedelta(hours=1), hours, lambda i: sizes[i], _gen,
                  seed=2)
    Monitor(store, _config("1h", {"kind": "previous"})).run_once()
    vol = _volume(store)
    bad = {int((d - MONDAY) / timedelta(hours=1)) for d, (b, _) in vol.items() if b}
    first_seen = set(range(8, 32))  # the first day and night: not known to be the cycle
    assert set(outage) <= bad, sorted(set(outage) - bad)
    assert bad - set(outage) <= first_seen, sorted(bad - set(outage) - first_seen)
    assert bad & set(range(32, 24 * 4 + 10)) == set()  # the next days and nights: none
