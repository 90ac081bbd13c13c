"""Deploy markers (the Deployments annotation) and the retrain requests' model version, as
Grafana would run them on a real chDB store: events written as stored (their versions
recorded by migration 208's fill, as for a store's existing events) and a profile-only
model's events fed through the collector's own Processor and Sink."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from driftscope.collector.batch import Batch, Message, Processor
from driftscope.collector.model import ModelRegistry
from driftscope.collector.sink import Sink
from driftscope.config import Config
from driftscope.dashboards import build as b
from driftscope.dashboards import panels_overview, panels_quality
from driftscope.dashboards.macros import ALL, expand
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store, _statements, migrations

T0 = datetime(2026, 4, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
PER = 60  # events a window: one a minute
MINUTE = timedelta(minutes=1)


def _windows(store: Store, model: str, start: datetime, count: int,
             version: Any) -> None:
    """``count`` hourly windows of ``model`` from ``start``, one event a minute;
    ``version(i, j)`` the version of window i's event j."""
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"x": rng.normal(size=n),
                "model_version": np.array([version(i, j) for j in range(n)], dtype=object)}
    write_windows(store, model, start, HOUR, count, PER, gen, seed=count)


def _fill_versions(store: Store) -> None:
    """What migrating a store that holds these events records (migration 208's fill)."""
    sql = next(sql for _, name, sql in migrations() if name.startswith("208_"))
    for statement in _statements(sql):
        store.command(statement)


def _collect(store: Store, model: str, times: list[tuple[datetime, str]]) -> None:
    """A profile-only model's events through the collector (no event row is stored), one
    flush each."""
    cfg = Config.model_validate({"models": [{"id": model, "logging": ["profile"],
                                             "window": "1h", "allowed_lateness": "1d"}]})
    now = datetime.now(UTC)
    proc = Processor(cfg, ModelRegistry(cfg), lambda: now)
    sink = Sink(store, "g", "t", lambda: now)
    for k, (t, version) in enumerate(times):
        ev = {"model_id": model, "event_id": f"{model}-{k}", "timestamp": t.isoformat(),
              "model_version": version, "features": {"x": float(k)}}
        batch = Batch()
        proc.process(batch, Message("t", 0, k, json.dumps(ev).encode()))
        batch.next_offsets[0] = k + 1
        sink.write(batch, proc.registry.kinds)


@pytest.fixture
def deployed(store: Store) -> Store:
    """churn: version 1 from T0, version 2 rolled out beside it in window 3 (its events
    from minute 30, every other one), alone from window 4, version 3 from window 8 on.
    fraud: version 7 throughout. quiet: events without a version. shadow (profile only):
    versions a and b, through the collector."""
    def churn(i: int, j: int) -> str:
        if i >= 8:
            return "3"
        if i >= 4 or (i == 3 and j >= 30 and j % 2 == 0):
            return "2"
        return "1"

    _windows(store, "churn", T0, 12, churn)
    _windows(store, "fraud", T0 - 2 * HOUR, 14, lambda i, j: "7")
    _windows(store, "quiet", T0, 12, lambda i, j: "")
    _fill_versions(store)
    _collect(store, "shadow", [(T0 + 2 * HOUR, "a"), (T0 + 5 * HOUR + 10 * MINUTE, "a"),
                               (T0 + HOUR + 50 * MINUTE, "a"),  # late: the first one
                               (T0 + 6 * HOUR, "b"), (T0 + 7 * HOUR, "")])
    return store


def markers(store: Store, models: list[str], t0: datetime, t1: datetime,
            ) -> list[tuple[datetime, str]]:
    ann = panels_overview.deploy_annotations()
    v = {"model": models, "monitor": [ALL]}
    cols, rows = store.query_columns(expand(ann.sql, t0, t1, 60, v, all_values=b.ALL_VALUES))
    assert tuple(cols) == ann.columns or not rows
    assert all(tags.split(",")[0] == "deploy" for _, _, tags in rows)
    return [(t.replace(tzinfo=UTC) if t.tzinfo is None else t, text) for t, text, _ in rows]


def test_a_version_is_marked_once_at_the_first_event_it_served(deployed: Store) -> None:
    assert markers(deployed, ["churn"], T0, T0 + 12 * HOUR) == [
        (T0, "churn: version 1 deployed"),
        (T0 + 3 * HOUR + 30 * MINUTE, "churn: version 2 deployed"),
        (T0 + 8 * HOUR, "churn: version 3 deployed"),
    ]


def test_only_the_selected_models_versions_are_marked(deployed: Store) -> None:
    day = (T0 - 3 * HOUR, T0 + 12 * HOUR)
    assert [text for _, text in markers(deployed, ["fraud"], *day)] == [
        "fraud: version 7 deployed"]
    every = markers(deployed, [ALL], *day)
    assert sorted(text for _, text in every) == sorted([
        "churn: version 1 deployed", "churn: version 2 deployed", "churn: version 3 deployed",
        "fraud: version 7 deployed", "shadow: version a deployed",
        "shadow: version b deployed"])  # quiet's events carry no version: no marker
    assert not any(text.startswith("quiet") for _, text in every)
    assert markers(deployed, ["quiet"], *day) == []


def test_a_version_that_began_before_the_range_is_not_drawn_in_it(deployed: Store) -> None:
    # from 02:00: version 1 still serves until 04:00, version 7 all along; neither began
    # in the range, so neither is drawn (at its first event in range, or anywhere)
    got = markers(deployed, ["churn", "fraud"], T0 + 2 * HOUR, T0 + 12 * HOUR)
    assert got == [(T0 + 3 * HOUR + 30 * MINUTE, "churn: version 2 deployed"),
                   (T0 + 8 * HOUR, "churn: version 3 deployed")]
    assert markers(deployed, ["churn"], T0 + 9 * HOUR, T0 + 12 * HOUR) == []
    # shadow's version a: its flushes' rows are dated 02:00, 05:10 and 01:50
    assert markers(deployed, ["shadow"], T0 + 3 * HOUR, T0 + 12 * HOUR) == [
        (T0 + 6 * HOUR, "shadow: version b deployed")]


def test_a_profile_only_models_versions_are_marked(deployed: Store) -> None:
    assert deployed.count(S.EVENTS, "model_id = 'shadow'") == 0
    assert markers(deployed, ["shadow"], T0, T0 + 12 * HOUR) == [
        (T0 + HOUR + 50 * MINUTE, "shadow: version a deployed"),
        (T0 + 6 * HOUR, "shadow: version b deployed"),
    ]


def test_migrating_again_draws_the_same_markers(deployed: Store) -> None:
    before = markers(deployed, [ALL], T0 - 3 * HOUR, T0 + 12 * HOUR)
    assert deployed.migrate() == []
    _fill_versions(deployed)  # the file run again, as a second process would
    assert markers(deployed, [ALL], T0 - 3 * HOUR, T0 + 12 * HOUR) == before


def test_retrain_requests_name_the_version_they_are_about(store: Store) -> None:
    RQ = S.RETRAIN_REQUESTS
    rows = [(f"rq-{k}", "churn", "drift", T0 + k * HOUR, T0 + (k + 1) * HOUR, T0, T0 + HOUR,
             json.dumps(evidence), T0 + (k + 1) * HOUR)
            for k, evidence in enumerate([{"model_version": "3", "windows": 2}, {}])]
    store.insert(RQ, rows, RQ.columns)
    spec = panels_overview.retrain_requests()
    cols, got = store.query_columns(expand(spec.sql, T0, T0 + 12 * HOUR, 60,
                                           {"model": ["churn"]}, all_values=b.ALL_VALUES))
    assert tuple(cols) == spec.columns and got
    by_id = {r[cols.index("window_start")]: r[cols.index("model_version")] for r in got}
    assert list(by_id.values()) == ["", "3"]  # newest first; "" when unknown


def traffic(store: Store, model: str) -> dict[tuple[int, str], float]:
    """The Traffic by model version panel, hourly: (hour from T0, series): share."""
    spec = panels_quality.version_traffic()
    cols, rows = store.query_columns(expand(spec.sql, T0, T0 + 12 * HOUR, 3600,
                                            {"model": [model]}, all_values=b.ALL_VALUES))
    assert tuple(cols) == spec.columns or not rows
    return {(int((t.replace(tzinfo=UTC) - T0) / HOUR), s): round(float(v), 4)
            for t, s, v in rows}


def test_each_versions_share_of_the_traffic_shows_a_rollout(deployed: Store) -> None:
    got = traffic(deployed, "churn")
    assert {k: v for k, v in got.items() if k[0] in (2, 3, 4, 8)} == {
        (2, "version 1"): 1.0,
        (3, "version 1"): 0.75, (3, "version 2"): 0.25,  # (the canary's half hour)
        (4, "version 2"): 1.0, (8, "version 3"): 1.0}
    assert sum(got.values()) == pytest.approx(12)  # (each hour's shares sum to 1)
    assert set(traffic(deployed, "quiet").values()) == {1.0}
    assert {s for _, s in traffic(deployed, "quiet")} == {"version (none)"}
    assert traffic(deployed, "shadow") == {}  # (profiles only: the panel says why)
