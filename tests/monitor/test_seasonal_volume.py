"""A seasonal reference's volume expectation: the same window one period earlier, with room
for ordinary day-to-day variation. It was the mean of its three windows (the quiet hour
before business hours held to the busy one after it: 60 events, 373 expected, flagged
every day) under a pure Poisson z (a day 20 % busier than the one before flagged every
busy hour at 1,000 events)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 2, tzinfo=UTC)
W = timedelta(hours=1)
CONFIG = Config.model_validate({
    "models": [{"id": "m", "window": "1h"}],
    "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                  "reference": {"kind": "seasonal", "period": "1d"}}],
    "alerts": {"console": False}})


def events(i: int) -> int:
    """Business hours 09:00-17:00, busier by a fifth on the third day; an outage on day 3
    at 11:00 (a fourth day as the first two)."""
    day, hour = divmod(i, 24)
    if (day, hour) == (2, 11):
        return 150
    return (1200 if day == 2 else 1000) if 9 <= hour < 17 else 60


def test_business_hours_are_held_to_the_same_hour_the_day_before(store: Store) -> None:
    write_windows(store, "m", T0, W, 96, events,
                  lambda i, rng, n: {"x": rng.normal(0, 1, n)}, seed=5)
    verdicts = Monitor(store, CONFIG).run_once()
    volume = {(v.window_start - T0) // W for v in verdicts[24:]
              if any(f.metric == "volume" for f in v.findings)}
    # the outage only (the fourth day's 11:00 is held to the second day's, not the outage's)
    assert volume == {48 + 11}, sorted(volume)
