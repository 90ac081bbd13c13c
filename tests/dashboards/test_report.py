"""The HTML report: self-contained, opens in headless Chromium without errors, not blank."""

from __future__ import annotations

import re
import shutil
import subprocess
from html import escape
from pathlib import Path

import pytest
from dashfill import T0, T1
from pngread import coloured_share
from typer.testing import CliRunner

from driftscope.cli import app
from driftscope.dashboards.report import parse_since, write_report
from driftscope.store.clickhouse import Store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not installed: apt-get install -y chromium (Debian package)",
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]


@pytest.fixture(scope="module")
def report(filled_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "churn.html"
    return write_report(filled_store, "churn", T0, T1, path)


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    cmd = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def _page_errors(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines()
            if "CONSOLE" in ln or "Uncaught" in ln or "Failed to load resource" in ln]


def test_report_is_self_contained(report: Path) -> None:
    html = report.read_text()
    assert html.count("<svg") >= 15 and "Drift heatmap" in html
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html), "no external resource"
    for title in ("Model drift", "Performance", "Data quality", "Alerts", "Collector"):
        assert title in html


@needs_chromium
def test_report_opens_without_console_errors(report: Path, tmp_path: Path) -> None:
    done = _chromium(tmp_path, "--dump-dom", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'data-js-errors="0"' in done.stdout, "the page's error hook saw an error"
    assert int(re.search(r'data-svg-count="(\d+)"', done.stdout).group(1)) >= 15
    assert _page_errors(done.stderr) == []


@needs_chromium
def test_error_detection_catches_a_broken_page(report: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text(report.read_text().replace("</body>", "<script>undefinedFn()</script>"
                                                 "</body>"))
    done = _chromium(tmp_path, "--dump-dom", broken.as_uri())
    assert 'data-js-errors="1"' in done.stdout  # the page's own hook
    assert any("undefinedFn" in ln for ln in _page_errors(done.stderr))  # Chromium's log


@needs_chromium
def test_drift_panel_screenshot_is_not_blank(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "drift.png"
    done = _chromium(tmp_path, "--window-size=900,560", f"--screenshot={shot}",
                     report.as_uri())
    assert shot.exists(), done.stderr[-2000:]
    # Below the report's title: the drift heatmap and the first statistic panel.
    assert coloured_share(shot, top=150) > 0.03


def test_model_name_cannot_inject_sql(filled_store: Store) -> None:
    from driftscope.dashboards.report import render

    html = render(filled_store, "churn' OR '1'='1", T0, T1)
    heatmap = html.split('id="panel-drift_heatmap"')[1].split("</section>")[0]
    assert "no data in this range" in heatmap  # the quote stayed inside the string


def test_parse_since() -> None:
    assert parse_since("2d", T1) == T1.replace(day=1)
    assert parse_since("2026-01-01", T1) == T0
    with pytest.raises(ValueError, match="--since"):
        parse_since("yesterday", T1)


def test_report_command(filled_store: Store, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DRIFTSCOPE_STORE__DSN", filled_store.dsn)
    monkeypatch.setenv("DRIFTSCOPE_STORE__DATABASE", filled_store.database)
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", "--model", "fraud", "--since", "2026-01-01",
                                      "--until", "2026-01-03", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and "Drift heatmap" in out.read_text()
    bad = CliRunner().invoke(app, ["report", "--model", "fraud", "--since", "soon"])
    assert bad.exit_code == 2 and "--since" in bad.output


def test_report_of_past_data_covers_the_models_last_days(
    filled_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Replayed or simulated data (January 2026): the default range ends at the model's
    last window, not today, where every panel would say "no data"; an unknown model is one
    line naming those with data."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DRIFTSCOPE_STORE__DSN", filled_store.dsn)
    monkeypatch.setenv("DRIFTSCOPE_STORE__DATABASE", filled_store.database)
    result = CliRunner().invoke(app, ["report", "--model", "fraud"])
    assert result.exit_code == 0, result.output
    assert "no data of fraud in the last 7d: reporting the 7d up to its last window" in \
        result.output
    (path,) = (tmp_path / "reports").glob("driftscope-fraud-*.html")
    heatmap = path.read_text().split('id="panel-drift_heatmap"')[1].split("</section>")[0]
    assert "<svg" in heatmap and "no data in this range" not in heatmap
    later = CliRunner().invoke(app, ["report", "--model", "fraud", "--since", "2026-05-01",
                                     "--output", str(tmp_path / "later.html")])  # (= --out,
    assert later.exit_code == 0 and "no data of fraud" not in later.output  # evaluate's)
    assert (tmp_path / "later.html").exists()  # asked for: kept
    unknown = CliRunner().invoke(app, ["report", "--model", "fruad"])
    assert unknown.exit_code == 2
    assert "model 'fruad' has no window in the store (models with windows: " in unknown.output


def _sections(html: str) -> dict[str, str]:
    parts = re.split(r"<h2>(.*?)</h2>", html)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_report_shows_only_its_model(filled_store: Store) -> None:
    from driftscope.dashboards.report import render

    sections = _sections(render(filled_store, "churn", T0, T1))
    for title in ("Driftscope / Overview", "Driftscope / Alerts"):
        assert "churn" in sections[title] and "fraud" not in sections[title], title


def test_report_says_when_there_is_no_reference_dataset(filled_store: Store) -> None:
    from driftscope.dashboards.panels_drift import reference_vs_current
    from driftscope.dashboards.report import render

    html = render(filled_store, "no-such-model", T0, T1)
    panel = html.split('id="panel-reference_vs_current')[1].split("</section>")[0]
    assert escape(reference_vs_current().no_value or "?") in panel


def test_names_and_times_are_written_safely_and_in_utc(filled_store: Store) -> None:
    """A feature's name went unescaped into a panel's id (`"><img onerror=…>` ran in the
    mailed report); `--until 12:00+05:00` was written "12:00 UTC" over panels of 07:00."""
    from dataclasses import replace
    from datetime import timedelta, timezone

    from driftscope.dashboards.build import panel_specs
    from driftscope.dashboards.report import _panel, render

    spec = next(s for s in panel_specs("model_drift") if s.repeat)
    evil = 'age"><img src=x onerror=alert(1)>'
    from driftscope.dashboards.conventions import (
        FEATURE_VAR,
        MODEL_VAR,
        MONITOR_VAR,
        SEGMENT_VAR,
    )
    chosen = {MODEL_VAR: ["churn"], MONITOR_VAR: [""], FEATURE_VAR: [evil],
              SEGMENT_VAR: ["all"]}
    html = _panel(filled_store, replace(spec, key=f"{spec.key}-{evil}"), chosen, T0, T1, 3600)
    assert "<img" not in html and 'id="panel-' in html

    east = timezone(timedelta(hours=5))
    head = render(filled_store, "churn", T0.astimezone(east), T1.astimezone(east))
    assert f"{T0:%Y-%m-%d %H:%M} – {T1:%Y-%m-%d %H:%M} UTC" in head.split("</p>")[0]


def test_a_chart_is_written_in_its_panels_unit() -> None:
    """The dead-letter rate's axis read 0–0.0161 (1.6 %, read as 0.016 %)."""
    from datetime import UTC, datetime, timedelta, timezone

    from driftscope.dashboards import svg

    t = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    chart = svg.line_chart(["time", "rate"], [(t, 0.0), (t + timedelta(hours=1), 0.0161)],
                           unit="percentunit")
    assert ">1.61 %</text>" in chart and ">0.805 %</text>" in chart
    assert str(t.astimezone(UTC)) in chart and "+05:30" not in chart
    assert ">250 ms<" in svg.line_chart(["time", "p99"], [(t, 0.0), (t, 250.0)], unit="ms")
