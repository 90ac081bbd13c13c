"""Generated JSON: golden files, SDK round trip, structure, and the export command.

Regenerate the golden files (and the copy Grafana provisions from deploy/) with
``DRIFTSCOPE_REGEN_GOLDEN=1 pytest tests/dashboards/test_export.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard
from typer.testing import CliRunner

from driftscope.cli import app
from driftscope.dashboards import build as b
from driftscope.dashboards import query
from driftscope.dashboards.query import PLUGIN_ID, ClickHouseQuery

GOLDEN = Path(__file__).parents[1] / "golden" / "dashboards"
SHIPPED = Path(__file__).parents[2] / "deploy" / "grafana" / "dashboards"  # provisioned


def _targets(d: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for p in d["panels"] for t in p.get("targets", [])]


def test_golden_files_match_a_fresh_export(tmp_path: Path) -> None:
    if os.environ.get("DRIFTSCOPE_REGEN_GOLDEN") == "1":
        b.export(GOLDEN)
        b.export(SHIPPED)
    written = b.export(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in GOLDEN.glob("*.json"))
    for path in written:
        assert path.read_text() == (GOLDEN / path.name).read_text(), (
            f"{path.name} changed: rerun with DRIFTSCOPE_REGEN_GOLDEN=1 and review the diff"
        )


@pytest.mark.parametrize("key", sorted(b.DASHBOARDS))
def test_round_trip_through_the_sdk_models(key: str) -> None:
    register_default_plugins()
    query.register()
    original = b.build(key)
    parsed = Dashboard.from_json(original)
    assert all(isinstance(t, ClickHouseQuery) for p in parsed.panels or [] for t in p.targets)
    back = json.loads(b.encode(parsed))
    # The SDK types annotation targets for Grafana's built-in source only (its model says
    # "TODO: this should be a regular DataQuery"), so their SQL is checked separately.
    for ann in original.get("annotations", {}).get("list", []):
        assert ClickHouseQuery.from_json(ann["target"]).to_json() == ann["target"]
    original.pop("annotations", None)
    back.pop("annotations", None)
    assert back == original


@pytest.mark.parametrize("key", sorted(b.DASHBOARDS))
def test_structure(key: str) -> None:
    d = b.build(key)
    assert d["uid"] == b.DASHBOARDS[key].uid and d["title"].startswith("Driftscope / ")
    assert d["panels"] and all(p["title"] and p["gridPos"]["w"] > 0 for p in d["panels"])
    for t in _targets(d):
        assert t["editorType"] == "sql" and t["datasource"]["type"] == PLUGIN_ID
        assert t["format"] in (0, 1) and t["queryType"] in ("timeseries", "table")
        assert "FROM " in t["rawSql"]
    names = {v["name"] for v in d.get("templating", {}).get("list", [])}
    assert names == set(b.DASHBOARDS[key].variables)


def test_model_drift_has_every_required_view() -> None:
    d = b.build("model_drift")
    types = {p["type"] for p in d["panels"]}
    assert {"heatmap", "timeseries", "barchart", "table"} <= types
    assert {a["name"] for a in d["annotations"]["list"]} == {"Alerts", "Retrain requests",
                                                           "Deployments"}
    assert {v["name"] for v in d["templating"]["list"]} == {"model", "monitor", "feature",
                                                            "segment"}


def test_alert_links_open_the_model_drift_dashboard() -> None:
    from driftscope.alerts.config import AlertsConfig

    assert AlertsConfig().grafana_dashboard == b.DASHBOARDS["model_drift"].uid
    assert (GOLDEN / f"{AlertsConfig().grafana_dashboard}.json").exists()


def test_export_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["dashboards", "export", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").glob("*.json"))) == len(b.DASHBOARDS)


def _dashboards() -> list[tuple[str, dict[str, Any]]]:
    """Every dashboard as built and as shipped in deploy/ (what Grafana provisions)."""
    built = [(f"built:{k}", b.build(k)) for k in sorted(b.DASHBOARDS)]
    shipped = [(f"shipped:{p.name}", json.loads(p.read_text()))
               for p in sorted(SHIPPED.glob("*.json"))]
    return built + shipped


@pytest.mark.parametrize(("name", "d"), _dashboards(), ids=[n for n, _ in _dashboards()])
def test_panels_fit_the_grid_and_do_not_overlap(name: str, d: dict[str, Any]) -> None:
    boxes = []
    for p in d["panels"]:
        g = p["gridPos"]
        assert g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24, (p["title"], g)
        boxes.append((p["title"], g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"]))
    for i, (t1, x0, y0, x1, y1) in enumerate(boxes):
        for t2, u0, v0, u1, v1 in boxes[i + 1:]:
            assert x1 <= u0 or u1 <= x0 or y1 <= v0 or v1 <= y0, f"{t1!r} overlaps {t2!r}"


@pytest.mark.parametrize(("name", "d"), _dashboards(), ids=[n for n, _ in _dashboards()])
def test_repeated_panels_have_their_rows_to_themselves(name: str, d: dict[str, Any]) -> None:
    """Grafana lays a horizontal repeat's copies from x = 0 across the whole row (wrapping
    after maxPerRow): any other panel in those rows would be covered or pushed around."""
    for p in d["panels"]:
        if not p.get("repeat"):
            continue
        g = p["gridPos"]
        assert p["repeatDirection"] == "h" and g["x"] == 0, (p["title"], g)
        assert g["w"] * p["maxPerRow"] <= 24, (p["title"], g, p["maxPerRow"])
        for q in d["panels"]:
            h = q["gridPos"]
            if q is not p:
                assert h["y"] + h["h"] <= g["y"] or g["y"] + g["h"] <= h["y"], (
                    f"{q['title']!r} shares a row with the repeated {p['title']!r}")
