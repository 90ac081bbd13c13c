"""The whole loop: a simulated gradual drift → PredictionLogger → local Kafka broker →
collector → chDB → monitor (reference: the app's training set, uploaded) → one grouped
Slack message and one retrain request on the Kafka topic ``driftscope.retrain``."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime

import pandas as pd
from pydantic import SecretStr
from test_monitor_alerts import Recorder, consume

from driftscope.alerts.channels import dispatcher
from driftscope.alerts.engine import AlertEngine
from driftscope.broker import LocalBroker, ensure_topics
from driftscope.client import PredictionLogger
from driftscope.collector.service import Collector
from driftscope.config import Config, Secrets
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.upload import upload
from driftscope.simulators.app import DemoApp
from driftscope.simulators.scenarios import Clock
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

N = 8000  # 500 events per simulated hour: 16 one-hour windows, drift from the middle


def collect(cfg: Config, store: Store, broker: LocalBroker, n: int) -> None:
    """Run the collector until the ``n`` events are stored (90 s at most), then flush."""
    collector = Collector(cfg, store, kafka_options={"bootstrap_servers": [broker.bootstrap]})
    collector.start()
    deadline = time.monotonic() + 90
    while store.count(S.EVENTS) < n and time.monotonic() < deadline:
        collector.poll_once()
    collector.flush()
    collector.close()
    assert store.count(S.EVENTS) == n


def test_simulated_gradual_drift_end_to_end(broker: LocalBroker, topic: str,
                                            store: Store) -> None:
    clock = Clock(start=datetime(2026, 5, 1, tzinfo=UTC), events_per_second=500 / 3600)
    app = DemoApp("gradual-covariate", intensity="high", seed=11, clock=clock,
                  n_reference=4000, label_share=0.0)
    with PredictionLogger(broker.bootstrap, topic=topic) as logger:
        counts = app.run(logger, N)
        assert logger.flush(60)
    assert counts.predictions == N and counts.drifted > 0
    reference = app.reference()
    upload(store, "demo", "training", pd.DataFrame(reference))

    retrain_topic = f"retrain.{uuid.uuid4().hex[:8]}"
    ensure_topics(broker.bootstrap, [retrain_topic], partitions=1)
    cfg = Config.model_validate({
        "kafka": {"bootstrap_servers": broker.bootstrap, "topic": topic,
                  "dead_letter_topic": f"{topic}.dlq", "group_id": f"{topic}.g",
                  "retrain_topic": retrain_topic},
        "collector": {"flush_interval": "0.3s"},
        "models": [{"id": "demo", "window": "1h"}],
        "monitors": [{"name": "demo-drift", "model": "demo", "features": sorted(reference),
                      "outputs": ["score"],
                      "reference": {"kind": "dataset", "dataset": "training"}}],
        "alerts": {"console": False, "slack": True, "cooldown": "1d",
                   "retrain": {"policies": [{"name": "sustained", "kind": "drift_sustained",
                                             "windows": 3}]}},
    })
    collect(cfg, store, broker, N)
    assert store.count(S.WINDOWS) >= 14  # closed by the watermark

    slack = Recorder()
    threading.Thread(target=slack.serve_forever, daemon=True).start()
    try:
        verdicts = Monitor(store, cfg, alerts=AlertEngine(store, cfg.alerts)).run_once()
        secrets = Secrets(slack_webhook_url=SecretStr(slack.url))
        sent = dispatcher(store, cfg, secrets, sleep=lambda s: None).run()
        assert sent["failed"] == 0
        assert not any(v.drifted for v in verdicts[:4])  # before the onset: quiet
        assert all(v.n_events == 500 for v in verdicts)
        assert not any(f.kind == "quality" for v in verdicts for f in v.findings)
        assert len(slack.accepted) == 1, [b["text"] for b in slack.accepted]
        requests = consume(broker.bootstrap, retrain_topic)
        assert len(requests) == 1 and requests[0]["model_id"] == "demo"
        assert "drifted" in json.dumps(requests[0]["evidence"])
    finally:
        slack.shutdown()
        slack.server_close()
