"""`driftscope demo` end to end, in its short mode, as a user runs it.

One run (a subprocess, its output piped: not a terminal, 80 columns) serves every test of
this module; its stored tables are read back afterwards to check the summary against them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

WINDOW = timedelta(hours=1)  # the demo's simulated clock makes a window an hour

# what the demo stored, read in another process: the demo's chDB path is its own
READ_STORE = """
import json, sys
from driftscope.store.clickhouse import Store
store = Store(sys.argv[1], database="demo")
print(json.dumps({
    "windows": [[f"{r[0]:%Y-%m-%d %H:%M}", int(r[1]), json.loads(r[2])] for r in store.query(
        "SELECT window_start, bad, summary FROM monitor_windows FINAL ORDER BY window_start")],
    "alerts": [json.loads(r[0]) for r in store.query("SELECT details FROM alerts FINAL")],
}))
"""


@dataclass
class Demo:
    data: Path
    out: str
    rows: dict[str, str]
    windows: list[tuple[datetime, bool, dict]]  # monitor_windows: start, bad, summary
    alerts: list[dict]  # alerts: each one's latest details


def _time(text: str) -> datetime:
    return datetime.strptime(text.removesuffix(" UTC"), "%Y-%m-%d %H:%M")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    # a path longer than the 80 columns a piped output gets: it must print whole
    data = tmp_path_factory.mktemp("demo") / ("a-rather-long-directory-name-" * 3) / "data"
    env = {k: v for k, v in os.environ.items()
           if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    env["COLUMNS"] = "80"
    proc = subprocess.run(
        # seed 4: the first drifted window is `carried`, so the alert opens on the window
        # before it (a window judged not drifted) and pages at once; the checks hold for
        # any seed
        [sys.executable, "-m", "driftscope.cli", "demo", "--short", "--seed", "4",
         "--data-dir", str(data)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in out.splitlines()
        if line.count("│") == 3
    }
    read = subprocess.run(
        [sys.executable, "-c", READ_STORE, f"chdb://{(data / 'db').resolve()}"],
        capture_output=True, text=True, timeout=120,
    )
    assert read.returncode == 0, read.stderr[-3000:]
    stored = json.loads(read.stdout)
    windows = [(_time(w), bool(bad), summary) for w, bad, summary in stored["windows"]]
    return Demo(data, out, rows, windows, stored["alerts"])


def test_demo_short_detects_the_drift_and_nothing_before_it(demo: Demo) -> None:
    rows, out = demo.rows, demo.out
    assert rows["windows monitored"] == "12, 1h each"
    sent, stored = rows["predictions sent / stored"].split(" / ")
    assert sent == stored == "6050"
    assert rows["dead letters"] == "0"
    assert rows["alerts raised before onset"] == "0"
    assert rows["alert raised (user paged)"] != "not raised"
    assert 1 <= int(rows["windows from onset to alert"].split()[0]) <= 6
    assert int(rows["windows judged drifted"].split()[0]) >= 1
    assert "[ALERT]" in out
    assert (demo.data / "db").exists()
    report = demo.data / "report.html"
    assert report.exists() and "<svg" in report.read_text()


def test_the_summary_agrees_with_the_stored_verdicts_and_alert(demo: Demo) -> None:
    rows = demo.rows
    onset = _time(rows["drift onset (simulated truth)"])
    drifted = [w for w, bad, summary in demo.windows if bad and summary.get("drifted")]
    assert len(demo.windows) == 12

    # detection: the first window stored as drifted from the onset on, written start–end
    first = min(w for w in drifted if w >= onset)
    assert rows["first drifted window since onset"] == (
        f"{first:%Y-%m-%d %H:%M}–{first + WINDOW:%H:%M} UTC")

    # the alert: when the user was paged (its notified_at, the end of the window whose
    # verdict paged), never before the first drifted window has closed
    paged = sorted(datetime.fromisoformat(a["notified_at"]).replace(tzinfo=None)
                   for a in demo.alerts if a.get("notified_at"))
    assert paged, demo.alerts
    sent = paged[0]
    assert rows["alert raised (user paged)"] == f"{sent:%Y-%m-%d %H:%M} UTC"
    alert_window = sent - WINDOW
    assert rows["by the verdict of window"] == (
        f"{alert_window:%Y-%m-%d %H:%M}–{sent:%H:%M} UTC")
    assert alert_window >= first and alert_window in drifted  # a drifted window paged

    # windows from the onset to the alert: the onset's window to the paging one, both in
    n = int(rows["windows from onset to alert"].split()[0])
    assert n == (alert_window - onset) / WINDOW + 1 == (sent - onset) / WINDOW

    # drifted windows: the stored verdicts, all of them and those before the onset
    before = sum(1 for w in drifted if w < onset)
    assert rows["windows judged drifted"] == f"{len(drifted)} of 12, {before} before onset"
    assert rows["alerts raised before onset"] == "0"


def test_the_paths_print_whole_when_piped(demo: Demo) -> None:
    lines = demo.out.splitlines()
    report = (demo.data / "report.html").resolve()
    where = f"chdb://{(demo.data / 'db').resolve()} (database demo)"
    assert len(str(report)) > 80  # longer than the line
    assert f"HTML report (open in a browser): {report}" in lines, demo.out[-3000:]
    assert f"data: {where}" in lines, demo.out[-3000:]
    assert "…" not in demo.out


def test_an_undetected_run_says_so_on_every_line() -> None:
    from driftscope.demo import DemoSummary, summary_rows

    rows = dict(summary_rows(DemoSummary(windows=12, onset=datetime(2026, 1, 1, 6))))
    assert rows["first drifted window since onset"] == "none"
    assert rows["alert raised (user paged)"] == "not raised"
    assert rows["  by the verdict of window"] == rows["windows from onset to alert"] == "-"
    assert rows["windows judged drifted"] == "0 of 12, 0 before onset"
    assert not DemoSummary().detected
