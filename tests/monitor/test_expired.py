"""Windows whose data ``store.retention`` has deleted (their ``windows`` rows outlive the
events): the monitor neither processes them as empty windows nor lets a backfill
overwrite what it recorded while their data was there; a window half deleted is not
judged either."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.config import Config
from driftscope.monitor import results
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)


def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    return {"x": rng.normal(size=n)}


def config() -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                      "reference": {"kind": "previous", "windows": 3}}],
        "alerts": {"console": False}})


def expire_before(store: Store, t: datetime) -> None:
    """What the events TTL does: the events go, the windows rows stay."""
    E = S.EVENTS
    store.command(f"DELETE FROM {E} WHERE {E.timestamp} < {{t:DateTime64(3, 'UTC')}}", {"t": t})


def test_a_new_monitor_skips_the_windows_whose_events_expired(store: Store) -> None:
    write_windows(store, "m", T0, W, 30, 200, gen, seed=1)
    expire_before(store, T0 + 20 * W)
    verdicts = Monitor(store, config()).run_once()
    assert [int((v.window_start - T0) / W) for v in verdicts] == list(range(20, 30))
    assert all(v.n_events == 200 for v in verdicts)
    assert not any(f.metric == "volume" for v in verdicts for f in v.findings)


def test_a_backfill_leaves_the_records_of_expired_windows(store: Store) -> None:
    write_windows(store, "m", T0, W, 30, 200, gen, seed=1)
    assert len(Monitor(store, config()).run_once()) == 30
    expire_before(store, T0 + 20 * W)
    redone = Monitor(store, config()).backfill(T0, T0 + 30 * W)
    assert [int((v.window_start - T0) / W) for v in redone] == list(range(20, 30))
    done = results.processed(store, "m", "mon", W)
    assert done == {T0 + i * W for i in range(30)}  # windows 0-19 keep their record
    (zero,), = store.query(f"SELECT count() FROM {S.DRIFT_RESULTS} FINAL "
                           f"WHERE {S.DRIFT_RESULTS.n_cur} = 0")
    assert zero == 0


def test_a_replayed_event_or_a_half_deleted_window_does_not_bring_windows_back(
    store: Store,
) -> None:
    write_windows(store, "m", T0, W, 30, 200, gen, seed=1)
    E = S.EVENTS
    # events expire by ingestion time: one replayed into window 2 outlives its neighbours,
    # and window 19 is half merged away
    store.command(f"DELETE FROM {E} WHERE {E.timestamp} < {{t:DateTime64(3, 'UTC')}} "
                  f"AND NOT ({E.timestamp} >= {{a:DateTime64(3, 'UTC')}} AND "
                  f"{E.timestamp} < {{b:DateTime64(3, 'UTC')}} AND {E.event_id} = '1-2-0') "
                  f"AND NOT ({E.timestamp} >= {{h:DateTime64(3, 'UTC')}} AND "
                  f"{E.kafka_offset} % 3 = 0)",
                  {"t": T0 + 20 * W, "a": T0 + 2 * W, "b": T0 + 3 * W, "h": T0 + 19 * W})
    verdicts = Monitor(store, config()).run_once()
    assert [int((v.window_start - T0) / W) for v in verdicts] == list(range(20, 30))
    assert not any(f.metric == "volume" for v in verdicts for f in v.findings)
