"""The memory for the reads a Monitor keeps for its next pass: a setting
(``monitor_process.kept_reads_bytes``), measured in bytes held, and a read that does not
fit is said once per monitor — before, a read over a fixed count of values was silently
never kept, and every pass of a busy model read its whole reference lead again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from stored_windows import close_window

from driftscope.config import KEPT_READS_BYTES, Config, load_config
from driftscope.errors import ConfigError
from driftscope.monitor import scheduler
from driftscope.monitor.frame import Frame, Marks, read_events
from driftscope.monitor.kept import KeptReads, compact, footprint
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
N = 120
FIRST, LIVE = 14, 2  # windows of the first pass; live passes after it, one window each


def _stream(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    return {"x": rng.normal(size=n),
            "plan": rng.choice(np.array(["a", "b", "c"], dtype=object), n)}


def _config(budget: Any, monitors: int = 1) -> Config:
    """``monitors`` like monitors of one model (a sliding reference of 12 windows)."""
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": f"mon{i}", "model": "m", "features": ["x", "plan"],
                      "seed": i} for i in range(monitors)],
        "monitor_process": {"kept_reads_bytes": budget},
        "alerts": {"console": False}})


def _passes(store: Store, cfg: Config, monkeypatch: pytest.MonkeyPatch
            ) -> tuple[Monitor, list[list[datetime]], list[dict[str, int]]]:
    """A first pass over FIRST windows, then LIVE passes of one window each (one Monitor,
    as serve runs them). Returns it, the start of each read of each pass, and
    the bytes kept per monitor after each pass."""
    write_windows(store, "m", T0, W, FIRST + LIVE, N, _stream, closed=False)
    monitor = Monitor(store, cfg)
    reads: list[list[datetime]] = []
    kept: list[dict[str, int]] = []

    def counted(store: Store, model: str, start: datetime, end: datetime,
                *args: Any, **kw: Any) -> Any:
        reads[-1].append(start)
        return read_events(store, model, start, end, *args, **kw)

    monkeypatch.setattr(scheduler, "read_events", counted)
    for i in range(FIRST + LIVE):
        close_window(store, T0 + i * W, W, N)
        if i < FIRST - 1:
            continue
        reads.append([])
        monitor.run_once()
        kept.append(dict(monitor._kept.sizes()))
    return monitor, reads, kept


def _said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and "is not kept" in r.getMessage()]


def test_a_read_over_the_budget_is_not_kept_and_said_once(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "driftscope.monitor"):
        _, reads, kept = _passes(store, _config("10KB"), monkeypatch)
    assert kept == [{}] * (LIVE + 1)
    for i, pass_reads in enumerate(reads[1:], FIRST):  # each live pass reads its lead again
        assert min(pass_reads) <= T0 + (i - 12) * W, i
    said = _said(caplog)
    assert len(said) == 1, said  # once, not each pass
    assert said[0].startswith("monitor 'mon0' of model 'm': its read of 1,680 events (")
    assert "within monitor_process.kept_reads_bytes (10,000 bytes)" in said[0]
    assert "once its lead is all there" in said[0]  # (26 windows of lead, 14 with events)
    assert "DRIFTSCOPE_MONITOR_PROCESS__KEPT_READS_BYTES" in said[0]


def test_a_raised_budget_keeps_the_read_and_the_next_pass_reads_only_its_new_window(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "driftscope.monitor"):
        _, reads, kept = _passes(store, _config("10MB"), monkeypatch)
    assert [len(k) for k in kept] == [1] * (LIVE + 1)
    assert 10_000 < min(next(iter(k.values())) for k in kept) <= 10_000_000
    for i, pass_reads in enumerate(reads[1:], FIRST):
        assert pass_reads == [T0 + i * W], i  # the new window only
    assert _said(caplog) == []


def test_the_reads_that_do_not_fit_beside_the_kept_ones_are_left_out_not_swapped_in(
    caplog: pytest.LogCaptureFixture
) -> None:
    """Room for two reads of three, each pass taking each monitor's read and keeping its
    new one, in turn (as :meth:`Monitor._read` does): the first two keep theirs every pass,
    the third is told once. (Before, the least recently run was dropped to make room: each
    monitor dropped the read the next one needed, and no pass used a kept read.)"""
    n = 1000
    frame = Frame(np.arange(n).astype("datetime64[ms]"), {"x": np.zeros(n)})
    one = footprint(frame)
    kept = KeptReads(2 * one + one // 2)
    marks = Marks({})
    used = []
    with caplog.at_level(logging.WARNING, "driftscope.monitor"):
        for _ in range(3):
            used.append([kept.pop(fp) is not None for fp in "abc"])
            for fp in "abc":  # (the read taken again above: popped, as _read does)
                kept.pop(fp)
                kept.keep(fp, frame, marks, repr(fp))
            kept.tell()  # (at the pass's end)
    assert used == [[False] * 3, [True, True, False], [True, True, False]]
    assert kept.sizes() == {"a": one, "b": one}
    said = _said(caplog)
    assert len(said) == 1 and said[0].startswith("monitor 'c': its read of 1,000 events ("), said
    assert "does not fit beside the 32,000 bytes the other monitors' reads keep" in said[0]
    none = KeptReads(0)  # none kept, as asked: nothing said
    assert not none.keep("a", frame, marks, "'a'")
    none.tell()
    assert len(_said(caplog)) == 1


def test_the_read_of_a_monitor_that_stopped_keeping_makes_room() -> None:
    """A model retired (or silent, or its monitor stuck on an error): its monitor keeps no
    read again, and its last one held the room another monitor's read needs for good
    (found in review: the other was refused every pass). Once the others' reads were
    kept twice over without it, it gives way."""
    def frame(n: int) -> Frame:
        return Frame(np.arange(n).astype("datetime64[ms]"), {"x": np.zeros(n)})

    big, small = frame(3000), frame(1000)
    kept = KeptReads(footprint(big) + footprint(small))
    marks = Marks({})
    assert kept.keep("retired", big, marks, "'retired'")
    assert kept.keep("b", small, marks, "'b'")
    assert not kept.keep("c", big, marks, "'c'")  # a newcomer: the two kept stay
    for _ in range(3):  # b and c keep theirs, pass after pass; "retired" no more
        for fp, f in (("b", small), ("c", big)):
            kept.pop(fp)
            kept.keep(fp, f, marks, repr(fp))
    assert kept.sizes() == {"b": footprint(small), "c": footprint(big)}


def test_footprint_counts_what_the_arrays_hold_and_a_slice_of_a_big_read_is_copied() -> None:
    n = 10_000
    ts = np.arange(n).astype("datetime64[ms]")
    numbers = Frame(ts, {"x": np.zeros(n)})
    text = Frame(ts, {"x": np.array([f"value {i}" for i in range(n)], dtype=object)})
    assert footprint(numbers) == 2 * 8 * n
    assert footprint(text) > footprint(numbers) + 40 * n  # (a string: its pointer and itself)
    shared = Frame(ts, {"x": np.array(["1"] * n, dtype=object)})  # one string, shared
    assert footprint(shared) < footprint(numbers) + n

    rows = np.zeros(n, dtype=[("ts", "datetime64[ms]"), ("v0", "f8"), ("v1", "f8")])
    read = Frame(rows["ts"], {"x": rows["v0"], "y": rows["v1"]})  # views of its records
    assert footprint(read) == rows.nbytes == 3 * 8 * n  # (what the views keep alive)
    lead = read.take(slice(n - n // 10, n))
    assert footprint(lead) == rows.nbytes
    small = compact(lead)
    assert footprint(small) == 3 * 8 * (n // 10) and small.n == lead.n
    assert np.array_equal(small.columns["x"], lead.columns["x"])
    whole = read.take(slice(n // 10, n))  # most of it: kept as it is
    assert compact(whole) is whole


@pytest.mark.parametrize(("value", "want"), [
    (None, KEPT_READS_BYTES), (0, 0), (500_000_000, 500_000_000), ("320MB", 320_000_000),
    ("1.5GB", 1_500_000_000), ("512MiB", 512 * 2**20), ("2 GiB", 2 * 2**30), (3.2e8, 320_000_000),
])
def test_the_setting_reads_bytes_with_or_without_a_unit(value: Any, want: int) -> None:
    cfg = Config.model_validate({} if value is None else
                                {"monitor_process": {"kept_reads_bytes": value}})
    assert cfg.monitor_process.kept_reads_bytes == want


@pytest.mark.parametrize("raw", ["-1", "lots", "true", "1.5", "5PB", "[1]", ".nan"])
def test_a_bad_setting_is_one_line(raw: str) -> None:
    var = "DRIFTSCOPE_MONITOR_PROCESS__KEPT_READS_BYTES"
    with pytest.raises(ConfigError) as err:
        load_config(environ={var: raw, "DRIFTSCOPE_CONFIG": ""})
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{var}: monitor_process.kept_reads_bytes")
    assert "expected a size in bytes, such as 320000000, 320MB" in msg


def test_a_misspelt_setting_names_the_right_one(tmp_path: Any) -> None:
    path = tmp_path / "driftscope.yaml"
    path.write_text("monitor_process:\n  kept_read_bytes: 1GB\n")
    with pytest.raises(ConfigError, match="did you mean kept_reads_bytes"):
        load_config(path, environ={})
