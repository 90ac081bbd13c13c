"""Killing the alert process between sending and recording neither loses nor duplicates.

The alert process runs as a subprocess on its own chDB path (one path per process). A
hook right after the HTTP send and before the outbox records ``sent`` kills it with
SIGKILL. The next run re-sends the same idempotency key; the receiver, which honours
``Idempotency-Key`` like any idempotent webhook consumer, applies it exactly once.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from test_monitor_alerts import Recorder

CHILD = textwrap.dedent('''
    import json, os, signal, sys
    from datetime import UTC, datetime, timedelta
    import numpy as np
    from pydantic import SecretStr
    from driftscope.alerts.channels import dispatcher
    from driftscope.alerts.engine import AlertEngine
    from driftscope.config import Config, Secrets
    from driftscope.monitor.scheduler import Monitor
    from driftscope.monitor.seed import write_windows
    from driftscope.store.clickhouse import Store

    dsn, url, phase = sys.argv[1:]
    t0, five = datetime(2026, 3, 1, tzinfo=UTC), timedelta(minutes=5)
    store = Store(dsn, database="crash")
    store.migrate()
    cfg = Config.model_validate({
        "models": [{"id": "churn", "window": "5m"}],
        "monitors": [{"name": "m", "model": "churn", "features": ["a"], "reference": {
            "kind": "fixed", "start": t0.isoformat(), "end": (t0 + 10 * five).isoformat()}}],
        "alerts": {"console": False, "webhook": True, "backoff": "10ms"}})
    if phase == "first":
        gen = lambda i, rng, n: {"a": rng.normal(1.5 if i >= 12 else 0.0, 1, n)}
        write_windows(store, "churn", t0, five, 16, 300, gen, seed=7)
    Monitor(store, cfg, alerts=AlertEngine(store, cfg.alerts)).run_once()
    kill = (lambda key: os.kill(os.getpid(), signal.SIGKILL)) if phase == "first" else None
    d = dispatcher(store, cfg, Secrets(webhook_url=SecretStr(url)), after_send=kill)
    counts = d.run()
    rows = store.query("SELECT delivery_id, status FROM alert_outbox FINAL")
    print(json.dumps({"counts": counts, "outbox": rows}))
''')


def _child(dsn: str, url: str, phase: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, dsn, url, phase], capture_output=True,
                          text=True, timeout=120, check=False)


def test_sigkill_between_send_and_record_neither_loses_nor_duplicates(tmp_path: Path) -> None:
    server = Recorder()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dsn = f"chdb://{tmp_path / 'db'}"
    try:
        first = _child(dsn, server.url, "first")
        assert first.returncode == -signal.SIGKILL, first.stderr[-2000:]
        assert len(server.posts) == 1  # sent, then killed before the outbox recorded it

        second = _child(dsn, server.url, "again")
        assert second.returncode == 0, second.stderr[-2000:]
        out = json.loads(second.stdout.strip().splitlines()[-1])
        assert out["counts"]["sent"] == 1  # not lost: re-sent after the crash …
        assert [r[1] for r in out["outbox"]] == ["sent"]
        keys = [h.get("Idempotency-Key") for _, h, _ in server.posts]
        assert len(keys) == 2 and len(set(keys)) == 1  # … with the same key: applied once
        assert {b["idempotency_key"] for b in server.accepted} == set(keys)

        third = _child(dsn, server.url, "again")
        assert json.loads(third.stdout.strip().splitlines()[-1])["counts"]["sent"] == 0
        assert len(server.posts) == 2
        assert server.url.split("/")[-1] not in first.stderr + second.stderr + third.stderr
    finally:
        server.shutdown()
        server.server_close()
