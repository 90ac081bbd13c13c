"""An outage's few events do not become the volume's normal: windows whose volume was
bad for a fall are left out of the history, so a traffic collapse stays bad until the
traffic comes back (before: after half the history the median was the outage's 10
events, the volume check passed and the alert "recovered" with the traffic still down).
A rise that lasts is learnt as before."""

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

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D = S.DRIFT_RESULTS
NORMAL, STEADY = 400, 12  # events a window; windows before the change


def _config(store: Store) -> Config:
    return Config.model_validate({
        "store": {"dsn": store.dsn, "database": store.database},
        "models": [{"id": "m", "window": "10m"}], "alerts": {"console": False},
        "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                      "persistence": {"enabled": False},
                      "reference": {"kind": "fixed", "start": T0.isoformat(),
                                    "end": (T0 + 4 * W).isoformat()}}]})


def _gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    return {"x": rng.normal(size=n)}


def _volume_bad(store: Store) -> list[int]:
    rows = store.query(f"SELECT {D.window_start}, {D.drifted} FROM {D} FINAL "
                       f"WHERE {D.metric} = 'volume' AND {D.feature} = '*' "
                       f"ORDER BY {D.window_start}")
    return [int(bad) for start, bad in rows if start.replace(tzinfo=UTC) >= T0 + STEADY * W]


@pytest.mark.parametrize("passes", ["one", "each window"])
def test_an_outage_stays_bad_until_the_traffic_is_back(store: Store, passes: str) -> None:
    down, back = 30, 3  # windows at 10 events (past half the 48-window history), then back
    sizes = [NORMAL] * STEADY + [10] * down + [NORMAL] * back
    write_windows(store, "m", T0, W, len(sizes), lambda i: sizes[i], _gen, seed=3)
    cfg = _config(store)
    if passes == "one":
        Monitor(store, cfg).run_once()
    else:  # a pass per window, as `driftscope monitor` runs: the history read back
        for k in range(8, len(sizes) + 1):
            Monitor(store, cfg).run_once(until=T0 + k * W)
    assert _volume_bad(store) == [1] * down + [0] * back


def test_a_lasting_rise_is_learnt(store: Store) -> None:
    sizes = [NORMAL] * STEADY + [3 * NORMAL] * 40
    write_windows(store, "m", T0, W, len(sizes), lambda i: sizes[i], _gen, seed=4)
    Monitor(store, _config(store)).run_once()
    bad = _volume_bad(store)
    assert bad[0] == 1 and bad[-10:] == [0] * 10  # flagged at first, normal once it lasts
