"""A sliding reference (``previous``, ``seasonal``) leaves out the windows judged unlike the
normal — drift, a data fault. Before, an incident stayed in the reference after it ended
(the 12 clean windows after a 3-window incident were flagged, its alert resolving 12
windows late), and a lasting change became the normal 10 windows after it began."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from driftscope.config import Config
from driftscope.monitor.config import ReferenceSpec
from driftscope.monitor.reference import reference_windows
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store.clickhouse import Store
from driftscope.types import Window

T0 = datetime(2026, 3, 2, tzinfo=UTC)
W = timedelta(hours=1)


def config(reference: dict[str, Any]) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "1h"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"], "reference": reference}],
        "alerts": {"console": False}})


def shifted(windows: range, by: float = 2.0) -> Any:
    return lambda i, rng, n: {"x": rng.normal(by if i in windows else 0.0, 1, n)}


def bad(store: Store, reference: dict[str, Any], count: int, gen: Any,
        split: int | None = None) -> str:
    """Which windows the monitor judged bad, as a string of '.' and 'X'; with ``split``,
    in two passes of two Monitors, the windows from ``split`` on written after the first:
    what the second leaves out is read back from the store."""
    verdicts = []
    for first, last in ((0, split), (split, count)) if split else ((0, count),):
        write_windows(store, "m", T0 + first * W, W, last - first, 400,
                      lambda i, rng, n, first=first: gen(first + i, rng, n), seed=first)
        verdicts += Monitor(store, config(reference)).run_once()
    return "".join("X" if v.bad else "." for v in verdicts)


def test_an_incident_does_not_stay_in_a_previous_reference_after_it_ends(store: Store) -> None:
    flags = bad(store, {"kind": "previous", "windows": 12}, 40, shifted(range(20, 23)))
    assert flags[12:] == "." * 8 + "XXX" + "." * 17, flags  # (before: 12 more X after it)


def test_what_is_left_out_is_read_back_by_a_later_pass(store: Store) -> None:
    flags = bad(store, {"kind": "previous", "windows": 12}, 40, shifted(range(20, 23)),
                split=22)
    assert flags[12:] == "." * 8 + "XXX" + "." * 17, flags


def test_a_lasting_change_is_flagged_for_longer_then_learnt(store: Store) -> None:
    flags = bad(store, {"kind": "previous", "windows": 12}, 60, shifted(range(20, 60), 1.0))
    assert flags[20:36] == "X" * 16, flags  # (before: 10 windows, then "recovered")
    assert "XX" not in flags[40:], flags  # (1.5 widths on, the new normal: no alert)


def test_which_windows_a_sliding_reference_reads() -> None:
    w = Window("m", datetime(2026, 3, 4, 10, tzinfo=UTC), W)
    hours = [w.start - k * W for k in range(1, 30)]
    previous = ReferenceSpec(kind="previous", windows=4)
    assert reference_windows(previous, w, set()) is None  # (its plain range)
    assert reference_windows(previous, w, {hours[7]}) is None  # (not among its windows)
    assert reference_windows(previous, w, {hours[1]}) == [hours[0], *hours[2:5]]
    assert reference_windows(previous, w, set(hours[:6])) == hours[6:8]  # half: kept
    assert reference_windows(previous, w, set(hours[:7])) is None  # (the new normal)
    seasonal = ReferenceSpec(kind="seasonal", windows=3)
    day = w.start - timedelta(days=1)
    assert reference_windows(seasonal, w, {day}) == [day - W, day - timedelta(days=1),
                                                     day + W]
    left = {day - W, day, day + W} | {t - timedelta(days=1) for t in (day - W, day, day + W)}
    assert reference_windows(seasonal, w, left) is None


def test_a_previous_reference_counts_only_windows_that_hold_events() -> None:
    """A young stream: the slots before its first window held no event, but counted as
    normal windows. Before, with window 1 flagged by chance, window 2 and every later one
    to window 19 were judged against window 0 alone (12 of 24 slots "normal": enough)."""
    w = Window("m", datetime(2026, 3, 4, 10, tzinfo=UTC), W)
    hours = [w.start - k * W for k in range(1, 30)]  # hours[0]: the window before
    previous = ReferenceSpec(kind="previous", windows=12)

    def since(first: int) -> Any:  # the stream's windows: hours[first] to hours[0]
        return lambda a, b: [t for t in hours[: first + 1] if a <= t < b]

    assert reference_windows(previous, w, {hours[0]}) == hours[1:13]  # (one of them real)
    assert reference_windows(previous, w, {hours[0]}, since(1)) is None  # its plain range
    assert reference_windows(previous, w, set(hours[:18]), since(18)) is None
    assert reference_windows(previous, w, {hours[0]}, since(2)) == hours[1:3]  # 2 of 3
    assert reference_windows(previous, w, set(hours[:2]), since(3)) is None  # 2 of 4 unlike
    full = reference_windows(previous, w, {hours[0]}, since(28))  # (a stream that is not
    assert full == reference_windows(previous, w, {hours[0]}) == hours[1:13]  # young)
    gappy = reference_windows(previous, w, {hours[0]}, lambda a, b: [  # (windows without
        t for t in hours if a <= t < b and t not in hours[3:9]])  # events are not normal)
    assert gappy == [*hours[1:3], *hours[9:19]]
