"""The monitor's health on the Collector and system dashboard: its passes, how long after a
window closed its verdict came, and the closed windows it has not judged.

Times are relative to now: the backlog leaves out windows closed within
:data:`~driftscope.dashboards.panels_collector.BACKLOG_GRACE` of now, and ``monitor_passes``
keeps 7 days (its TTL drops older rows as they are inserted).

Model ``live`` has two monitors: ``m1`` judged windows 0–2 (at known delays) but not 3 and
4, closed hours ago; ``m2`` judged 0–4. Neither judged the two windows of two days before
(before either's first verdict) nor the window that closed a minute ago (within the grace
period). Model ``bare`` has windows and no monitor.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dashfill import _insert, filled_database

from driftscope.dashboards import build as b
from driftscope.dashboards import panels_collector
from driftscope.dashboards.macros import expand
from driftscope.dashboards.spec import PanelSpec
from driftscope.store import schema
from driftscope.store.clickhouse import Store

H = timedelta(hours=1)
NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW.replace(minute=0, second=0) - 8 * H
"""Window k of ``live`` and ``bare`` is [START + k·H, START + (k+1)·H)."""
CLOSE = timedelta(seconds=30)
"""Each window first closes this long after its end."""
OLD = START - 48 * H
"""Two windows of ``live`` start here: closed long before its monitors' first verdict."""
FRESH = NOW - timedelta(minutes=1)
"""A window of ``live`` and ``bare`` closed then: within the grace period, not backlog."""
DELAYS = {("m1", 0): 20.0, ("m1", 1): 90.0, ("m1", 2): 300.0,
          **{("m2", k): 60.0 for k in range(5)}}
"""Seconds from each judged window's first close to the monitor's verdict."""
PASSES = [(START + H + timedelta(minutes=5), 1), (START + H + timedelta(minutes=20), 0),
          (START + H + timedelta(minutes=35), 2), (START + 3 * H + timedelta(minutes=10), 5)]
"""(finished_at, windows) of each monitor pass: three in hour 1, none in hour 2, one in 3."""
RANGE = (OLD - H, NOW)


def _window(model: str, start: datetime, end: datetime, closed: datetime) -> dict[str, Any]:
    return {"model_id": model, "window_start": start, "window_end": end,
            "window_seconds": int((end - start).total_seconds()), "n_events": 10,
            "n_late": 0, "closed_at": closed}


def _closes(k: int) -> datetime:
    return START + (k + 1) * H + CLOSE


def _verdict(monitor: str, k: int, at: datetime) -> dict[str, Any]:
    return {"model_id": "live", "monitor": monitor, "window_start": START + k * H,
            "window_end": START + (k + 1) * H, "fingerprint": "fp", "bad": 0, "n_cur": 10,
            "summary": "{}", "processed_at": at}


def _fill(store: Store) -> None:
    windows = []
    for model in ("live", "bare"):
        windows += [_window(model, START + k * H, START + (k + 1) * H, _closes(k))
                    for k in range(5)]
        windows.append(_window(model, FRESH - H, FRESH, FRESH))
    windows += [_window("live", OLD + k * H, OLD + (k + 1) * H, OLD + (k + 1) * H + CLOSE)
                for k in range(2)]
    # Late events: window 1 rewritten 40 minutes after it first closed (after m1's
    # verdict), by an insert of its own as the collector does; merges stopped so that the
    # first close is still there to read (a merge keeps the latest row only).
    store.command(f"SYSTEM STOP MERGES {schema.WINDOWS}")
    _insert(store, schema.WINDOWS, windows)
    _insert(store, schema.WINDOWS, [
        _window("live", START + H, START + 2 * H, _closes(1) + timedelta(minutes=40))])
    _insert(store, schema.MONITOR_WINDOWS, [_verdict(m, k, _closes(k) + timedelta(seconds=s))
                                            for (m, k), s in DELAYS.items()])
    _insert(store, schema.MONITOR_PASSES, [{"finished_at": t, "windows": n} for t, n in PASSES])
    # a monitor of `live` over 2-hour windows: the collector's 1-hour windows are not its
    _insert(store, schema.MONITOR_WINDOWS, [
        _verdict("daily", 0, _closes(1) + timedelta(minutes=1))
        | {"window_end": START + 2 * H}])


@pytest.fixture(scope="module")
def health(chdb_dsn: str) -> Iterator[Store]:
    yield from filled_database(chdb_dsn, "health", _fill)


def _run(store: Store, spec: PanelSpec, t0: datetime = RANGE[0], t1: datetime = RANGE[1],
         interval: int = 3600) -> list[dict[str, Any]]:
    """The panel's rows as Grafana gets them (the dashboard has no variables)."""
    cols, rows = store.query_columns(expand(spec.sql, t0, t1, interval, {},
                                            all_values=b.ALL_VALUES))
    assert tuple(cols) == spec.columns or not rows, spec.key
    return [dict(zip(cols, r, strict=True)) for r in rows]


def _at(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC)


def test_the_panels_are_on_the_collector_dashboard_after_its_own() -> None:
    keys = [s.key for s in b.panel_specs("collector")]
    assert keys == ["throughput", "consumer_lag", "flush_latency", "dead_letters_by_reason",
                    "late_events", "monitor_passes", "verdict_delay", "unjudged_windows",
                    "alert_delivery"]


def test_monitor_passes_counts_passes_and_windows_per_interval(health: Store) -> None:
    rows = _run(health, panels_collector.monitor_passes())
    got = {_at(r["time"]): (r["passes"], r["windows"]) for r in rows}
    assert got[START + H] == (3, 3)
    assert got[START + 3 * H] == (1, 5)
    assert got[START + 2 * H] == (0, 0), "an interval without a pass shows 0, not a gap"
    assert all(v == (0, 0) for t, v in got.items() if t not in (START + H, START + 3 * H))
    assert len(got) == len(rows) and min(got) == OLD - H and max(got) >= NOW - H


def test_monitor_passes_fills_no_zeros_before_the_passes_kept(health: Store) -> None:
    """A range older than the table's TTL shows nothing, not a monitor down all along."""
    long_ago = NOW - 30 * 24 * H
    assert _run(health, panels_collector.monitor_passes(), long_ago, long_ago + 24 * H) == []


def test_verdict_delay_from_the_first_close_to_the_first_verdict(health: Store) -> None:
    rows = _run(health, panels_collector.verdict_delay())
    got = {(r["monitor"], _at(r["time"])): r["delay"] for r in rows}
    assert len(got) == len(rows)
    assert got == {(f"live: {m}", START + (k + 1) * H): pytest.approx(s)
                   for (m, k), s in DELAYS.items()}
    assert panels_collector.verdict_delay().unit == "s"


def test_verdict_delay_is_the_worst_of_an_interval(health: Store) -> None:
    step = 4 * 3600
    rows = _run(health, panels_collector.verdict_delay(), interval=step)
    got = {(r["monitor"], _at(r["time"])): r["delay"] for r in rows}
    expected: dict[tuple[str, datetime], float] = {}
    for (m, k), s in DELAYS.items():
        t = _closes(k)
        bucket = datetime.fromtimestamp(int(t.timestamp()) // step * step, UTC)
        key = (f"live: {m}", bucket)
        expected[key] = max(expected.get(key, 0.0), s)
    assert got == pytest.approx(expected)


def test_backlog_counts_closed_windows_without_a_verdict(health: Store) -> None:
    rows = _run(health, panels_collector.unjudged_windows())
    got = {(r["model"], r["monitor"]): r["backlog"] for r in rows}
    # m1: windows 3 and 4; not the old ones (before its first verdict), not the fresh one
    assert got == {("live", "m1"): 2, ("live", "m2"): 0, ("live", "daily"): 0}, \
        "a model without monitor: unlisted; a monitor of longer windows: no false backlog"
    assert rows[0]["monitor"] == "m1", "the worst first"


def test_backlog_counts_the_windows_closed_in_the_range(health: Store) -> None:
    rows = _run(health, panels_collector.unjudged_windows(), _closes(3) + H / 2, NOW)
    assert {(r["model"], r["monitor"]): r["backlog"] for r in rows} == {
        ("live", "m1"): 1, ("live", "m2"): 0, ("live", "daily"): 0}


def test_backlog_spares_a_window_that_just_closed() -> None:
    # the monitor's default --settle is 10s; a pass every few seconds to a minute
    assert panels_collector.BACKLOG_GRACE >= timedelta(minutes=5)
    assert FRESH > NOW - panels_collector.BACKLOG_GRACE


def test_backlog_stat_is_red_from_one_and_lists_each_monitor() -> None:
    spec = panels_collector.unjudged_windows()
    assert spec.kind == "stat" and spec.each_row and spec.red_from == 1
    assert spec.no_value
    panel = next(p for p in b.build("collector")["panels"] if p["title"] == spec.title)
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [(s["value"], s["color"]) for s in steps] == [(None, "green"), (1, "red")]
    assert panel["options"]["reduceOptions"]["values"] is True


def test_descriptions_say_what_a_bad_value_means() -> None:
    for fn in (panels_collector.monitor_passes, panels_collector.verdict_delay,
               panels_collector.unjudged_windows):
        spec = fn()
        assert len(spec.description) > 80, spec.key
    assert "driftscope health monitor" in panels_collector.monitor_passes().description


def test_report_lists_the_backlog_of_each_monitor(health: Store) -> None:
    from driftscope.dashboards.report import render

    html = render(health, "live", *RANGE)
    panel = html.split('id="panel-unjudged_windows"')[1].split("</section>")[0]
    assert "<table>" in panel
    assert "<td>live</td><td>m1</td><td>2</td>" in panel and "bare" not in panel


def _fill_resized(store: Store) -> None:
    """Model ``resized``: 1-hour windows 0–2 judged, then its window became 30 minutes;
    the first two 30-minute windows judged, the next four closed and not judged."""
    half = H / 2
    hourly = [(START - 3 * H + k * H, H) for k in range(3)]
    halves = [(START + k * half, half) for k in range(6)]
    _insert(store, schema.WINDOWS, [
        _window("resized", s, s + d, s + d + CLOSE) for s, d in hourly + halves])
    _insert(store, schema.MONITOR_WINDOWS, [
        _verdict("r", 0, s + d + CLOSE + timedelta(seconds=5))
        | {"model_id": "resized", "window_start": s, "window_end": s + d}
        for s, d in hourly + halves[:2]])


@pytest.fixture(scope="module")
def resized(chdb_dsn: str) -> Iterator[Store]:
    yield from filled_database(chdb_dsn, "resized", _fill_resized)


def test_backlog_follows_a_model_whose_window_changed(resized: Store) -> None:
    """The windows of the new length are the ones the monitor judges now: counted."""
    rows = _run(resized, panels_collector.unjudged_windows())
    assert {(r["model"], r["monitor"]): r["backlog"] for r in rows} == {("resized", "r"): 4}


def _passes(*at_monitors: tuple[datetime, tuple[str, ...]]) -> Any:
    """A fill: :func:`_fill`, then passes of the given times, each configured with the
    given monitors of ``live``."""
    def fill(store: Store) -> None:
        _fill(store)
        _insert(store, schema.MONITOR_PASSES, [
            {"finished_at": t, "windows": 0, "monitors": [("live", m) for m in ms]}
            for t, ms in at_monitors])
    return fill


def _backlog(chdb_dsn: str, name: str, fill: Any) -> dict[tuple[str, str], int]:
    for store in filled_database(chdb_dsn, name, fill):
        rows = _run(store, panels_collector.unjudged_windows())
        return {(r["model"], r["monitor"]): r["backlog"] for r in rows}
    raise AssertionError("no store")


def test_backlog_leaves_out_a_monitor_taken_out_of_the_configuration(chdb_dsn: str) -> None:
    """m1 was removed an hour ago: the passes since have m2 and daily only."""
    now_ish = NOW - timedelta(minutes=1)
    got = _backlog(chdb_dsn, "removed", _passes(
        (now_ish - 2 * H, ("m1", "m2", "daily")),
        *((now_ish - k * timedelta(minutes=10), ("m2", "daily")) for k in range(6))))
    assert got == {("live", "m2"): 0, ("live", "daily"): 0}


def test_backlog_keeps_a_monitor_whose_process_is_down(chdb_dsn: str) -> None:
    """No pass for hours: the last passes had m1, whose 2 windows wait (red)."""
    got = _backlog(chdb_dsn, "down", _passes(
        (_closes(2) + timedelta(minutes=2), ("m1", "m2", "daily"))))
    assert got == {("live", "m1"): 2, ("live", "m2"): 0, ("live", "daily"): 0}


def test_backlog_keeps_the_monitors_of_each_of_two_processes(chdb_dsn: str) -> None:
    """Two monitor processes on one store, each with its monitors, passing in turn."""
    got = _backlog(chdb_dsn, "two", _passes(
        (NOW - timedelta(minutes=7), ("m1",)), (NOW - timedelta(minutes=2), ("m2", "daily"))))
    assert got == {("live", "m1"): 2, ("live", "m2"): 0, ("live", "daily"): 0}


def test_backlog_lists_a_monitor_that_has_judged_no_window(chdb_dsn: str) -> None:
    """A monitor whose dataset was never uploaded: the passes name it, its windows wait.
    Before, it was not listed and the stat stayed green. Every window of its model's
    length closed in the range counts (the five hourly ones and the two old ones; not the
    fresh one); one of a model with no window has none."""
    got = _backlog(chdb_dsn, "never", _passes(
        (NOW - timedelta(minutes=2), ("m2", "typo")), (NOW - timedelta(minutes=2), ())))
    assert got[("live", "typo")] == 7, got
    assert got[("live", "m2")] == 0
