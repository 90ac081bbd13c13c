"""A static reference's fits last as long as its data: the Monitor that ``serve`` keeps
scores against a dataset uploaded again beside it, and against a fixed range's events as
they are now, not as the first pass read them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from driftscope.config import Config
from driftscope.monitor import detect
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.monitor.upload import upload
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D = S.DRIFT_RESULTS


def config(reference: dict[str, Any]) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"], "reference": reference,
                      "persistence": {"enabled": False}}],
        "alerts": {"console": False}})


def shifted(loc: float) -> Any:
    return lambda i, rng, n: {"x": rng.normal(loc, 1, n)}


def emd(store: Store, window: int) -> tuple[bool, int]:
    """Whether the window drifted, and the events of the reference it was fitted on."""
    rows = store.query(
        f"SELECT {D.drifted}, JSONExtractInt({D.details}, 'n_reference') FROM {D} FINAL "
        f"WHERE {D.metric} = 'emd' AND {D.window_start} = {{t:DateTime64(3, 'UTC')}}",
        {"t": T0 + window * W})
    return bool(rows[0][0]), int(rows[0][1])


def test_a_dataset_uploaded_again_beside_serve_is_scored_against(store: Store) -> None:
    rng = np.random.default_rng(1)
    upload(store, "m", "train", pd.DataFrame({"x": rng.normal(0, 1, 3000)}))  # the wrong one
    kept = Monitor(store, config({"kind": "dataset", "dataset": "train"}))
    write_windows(store, "m", T0, W, 1, 500, shifted(2.0), seed=0)
    kept.run_once()
    assert emd(store, 0) == (True, 3000)
    upload(store, "m", "train", pd.DataFrame({"x": rng.normal(2, 1, 2000)}))  # corrected
    write_windows(store, "m", T0 + W, W, 1, 500, shifted(2.0), seed=1)
    kept.run_once()
    assert emd(store, 1) == (False, 2000)  # (before: drifted against the first upload's fit)


def test_an_unchanged_reference_is_fitted_once_for_all_passes(store: Store,
                                                                monkeypatch: Any) -> None:
    fits = []
    build = detect.build_detector
    upload(store, "m", "train", pd.DataFrame({"x": np.random.default_rng(1).normal(size=3000)}))
    kept = Monitor(store, config({"kind": "dataset", "dataset": "train"}))  # (makes each
    monkeypatch.setattr(detect, "build_detector",  # detector once to check it: not a fit)
                        lambda spec: fits.append(spec) or build(spec))
    for i in range(3):  # (every row uploaded at one time: read back in any order)
        write_windows(store, "m", T0 + i * W, W, 1, 500, shifted(0.0), seed=i)
        kept.run_once()
    assert len(fits) == 1


def test_a_fixed_range_still_filling_up_is_fitted_on_what_it_holds_now(store: Store) -> None:
    # the range ends after the windows judged so far: its later events come in with them
    end = T0 + 30 * W
    kept = Monitor(store, config({"kind": "fixed", "start": (T0 + 20 * W).isoformat(),
                                  "end": end.isoformat()}))
    write_windows(store, "m", T0 + 20 * W, W, 1, 500, shifted(0.0), seed=0)
    write_windows(store, "m", T0, W, 1, 500, shifted(2.0), seed=1)
    kept.run_once()
    assert emd(store, 0) == (True, 500)
    write_windows(store, "m", T0 + 21 * W, W, 1, 1500, shifted(0.0), seed=2)
    write_windows(store, "m", T0 + W, W, 1, 500, shifted(2.0), seed=3)
    kept.run_once()
    assert emd(store, 1)[1] == 2000  # fitted on the range as it is now, not on its first 500


def version(store: Store, window: int) -> str:
    rows = store.query(
        f"SELECT JSONExtractString({D.details}, 'reference_version') FROM {D} FINAL "
        f"WHERE {D.metric} = 'emd' AND {D.window_start} = {{t:DateTime64(3, 'UTC')}}",
        {"t": T0 + window * W})
    return str(rows[0][0])


def test_each_row_says_which_upload_of_a_dataset_it_was_judged_against(store: Store) -> None:
    """An upload under the same name replaces the contents: rows judged before and after
    carried the same fingerprint and nothing else to tell them apart."""
    rng = np.random.default_rng(1)
    upload(store, "m", "train", pd.DataFrame({"x": rng.normal(0, 1, 3000)}))
    kept = Monitor(store, config({"kind": "dataset", "dataset": "train"}))
    write_windows(store, "m", T0, W, 2, 500, shifted(0.0), seed=0)
    kept.run_once()
    first = version(store, 0)
    assert first and version(store, 1) == first
    upload(store, "m", "train", pd.DataFrame({"x": rng.normal(0, 1, 2000)}))
    write_windows(store, "m", T0 + 2 * W, W, 1, 500, shifted(0.0), seed=1)
    kept.run_once()
    assert version(store, 2) not in ("", first)


def test_a_fixed_range_that_holds_no_events_stops_its_monitor_with_one_line(
    store: Store,
) -> None:
    """A year mistyped: every window went unjudged for drift, and nothing said so."""
    kept = Monitor(store, config({"kind": "fixed", "start": "2025-02-01T00:00Z",
                                  "end": "2025-02-02T00:00Z"}))
    write_windows(store, "m", T0, W, 3, 500, shifted(2.0), seed=0)
    assert kept.run_once() == []
    assert kept.broken == {"mon": (
        "the fixed reference 2025-02-01 00:00 to 2025-02-02 00:00 UTC of model 'm' holds 0 "
        "events, fewer than min_events=30 (its windows run from 2026-02-01 00:00 to "
        "2026-02-01 00:30 UTC): check its start and end")}
