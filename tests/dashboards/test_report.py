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
