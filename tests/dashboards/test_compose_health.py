"""docker-compose's service hygiene that can be checked without a Docker engine: the
collector's healthcheck run against a real collector's metrics, and an init as PID 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry

from driftscope.telemetry import CollectorMetrics, serve_metrics

ROOT = Path(__file__).resolve().parents[2]


def _services() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"])


def test_the_collectors_healthcheck_fails_until_its_store_and_broker_answer() -> None:
    """Before, the check only fetched /metrics, and the gauge started at 1: a collector
    whose store never answered was healthy; and one whose broker was down too."""
    test = _services()["collector"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    metrics = CollectorMetrics(CollectorRegistry())
    server = serve_metrics(metrics.registry, 0)
    code = test[3].replace("127.0.0.1:9100", f"127.0.0.1:{server.server_port}")
    assert code != test[3]

    def check() -> int:
        return subprocess.run([sys.executable, "-c", code], timeout=30).returncode

    try:
        assert check() != 0  # a collector that has not reached its store yet
        metrics.store_up.set(1)
        assert check() != 0  # nor its broker
        metrics.broker_up.set(1)
        assert check() == 0
        metrics.store_up.set(0)  # a store outage
        assert check() != 0
        metrics.store_up.set(1)
        metrics.broker_up.set(0)  # a broker outage
        assert check() != 0
    finally:
        server.shutdown()


def test_driftscope_services_run_under_an_init() -> None:
    """``driftscope`` as PID 1 ignores SIGTERM where it installs no handler (monitor,
    alerts run): docker compose stop would wait its grace period, then SIGKILL them."""
    for name, svc in _services().items():
        if str(svc.get("image", "")).startswith("driftscope"):
            assert svc.get("init") is True, name
