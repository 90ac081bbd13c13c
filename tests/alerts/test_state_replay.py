"""A pair's track rebuilt from the processed windows (after a restart) replays the same
streak rule as the live engine: points, carried windows and features in common."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from driftscope.alerts.config import AlertsConfig
from driftscope.alerts.engine import AlertEngine
from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.alerts.rules import Policy, Track, step
from driftscope.alerts.state import AlertStore
from driftscope.monitor.results import mark_processed
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = timedelta(minutes=5)


def window(i: int, *features: str, kind: str = "drift", follows: bool = True) -> WindowVerdict:
    found = tuple(Finding(kind, "*", f, "linf", 0.3, 0.1, "permutation", "fdr")
                  for f in features)
    return WindowVerdict("m", "mon", T0 + i * W, T0 + (i + 1) * W, 500, found,
                         persistence_z=1.0 if found else None, follows=follows)


def test_the_rebuilt_track_has_the_live_engines_points(store: Store) -> None:
    cases = {
        "spike then another feature": [window(0), window(1, "age", "income"),
                                       window(2, "sessions")],
        "spike then a feature in common": [window(0), window(1, "age", "income"),
                                           window(2, "income")],
        "spike then another way": [window(0), window(1, "age"), window(2, "age", follows=False)],
        "drift then a model-wide finding": [window(0), window(1, "age"),
                                            window(2, "*", kind="performance")],
        "drift then quality on another feature": [window(0), window(1, "age"),
                                                  window(2, "sessions", kind="quality")],
    }
    expected = {"spike then another feature": 3, "spike then a feature in common": 4,
                "spike then another way": 3, "drift then a model-wide finding": 4,
                "drift then quality on another feature": 3}
    for name, verdicts in cases.items():
        verdicts = [replace(v, monitor=name) for v in verdicts]
        mark_processed(store, verdicts, "fp", T0)
        live = Track()
        for v in verdicts:
            live = step(live, v, Policy(), silenced=False).track
        rebuilt = AlertStore(store).track("m", name)
        assert (rebuilt.bad_streak, rebuilt.points) == (live.bad_streak, live.points), name
        assert rebuilt.points == expected[name], name
        assert rebuilt.last_features == live.last_features, name



def test_streaks_longer_than_fifty_windows_count_across_passes(store: Store) -> None:
    cfg = AlertsConfig.model_validate({"console": True, "resolve_windows": 60, "retrain": {
        "policies": [{"name": "sustained", "kind": "drift_sustained", "windows": 60}]}})

    def one_pass(v: WindowVerdict) -> str:  # each monitor pass has an engine of its own
        action = AlertEngine(store, cfg).process(v).action
        mark_processed(store, [v], "fp", T0)
        return action

    assert [one_pass(window(i, "age")) for i in (0, 1)] == ["pending", "open"]
    mark_processed(store, [window(i, "age") for i in range(2, 59)], "fp", T0)
    assert one_pass(window(59, "age")) == "update"
    assert store.count(S.RETRAIN_REQUESTS) == 1  # drifted for 60 windows
    mark_processed(store, [window(i) for i in range(60, 119)], "fp", T0)
    assert one_pass(window(119)) == "resolve"  # good for 60 windows
