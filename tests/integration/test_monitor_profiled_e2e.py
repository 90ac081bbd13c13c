"""A model logged only as profiles, through the real broker and collector: the monitor
reads each window's merged profile parts (several partitions and flushes), counts the
window as the collector did, and finds the drift against an uploaded training set."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pandas as pd

from driftscope.broker import LocalBroker
from driftscope.client import PredictionLogger
from driftscope.collector.service import Collector
from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.upload import upload
from driftscope.simulators.app import DemoApp
from driftscope.simulators.scenarios import Clock
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

N = 8000  # 500 events per simulated hour: 16 one-hour windows, drift from the middle


def test_a_profile_only_model_end_to_end(broker: LocalBroker, topic: str, store: Store) -> None:
    clock = Clock(start=datetime(2026, 5, 1, tzinfo=UTC), events_per_second=500 / 3600)
    app = DemoApp("gradual-covariate", intensity="high", seed=11, clock=clock,
                  n_reference=4000, label_share=0.0)
    with PredictionLogger(broker.bootstrap, topic=topic) as logger:
        assert app.run(logger, N).predictions == N
        assert logger.flush(60)
    reference = app.reference()
    upload(store, "demo", "training", pd.DataFrame(reference))
    cfg = Config.model_validate({
        "kafka": {"bootstrap_servers": broker.bootstrap, "topic": topic,
                  "dead_letter_topic": f"{topic}.dlq", "group_id": f"{topic}.g"},
        "collector": {"flush_interval": "0.3s"},
        "models": [{"id": "demo", "window": "1h", "logging": ["profile"]}],
        "monitors": [{"name": "demo-drift", "model": "demo", "features": sorted(reference),
                      "reference": {"kind": "dataset", "dataset": "training"}}],
        "alerts": {"console": False},
    })
    collector = Collector(cfg, store, kafka_options={"bootstrap_servers": [broker.bootstrap]})
    collector.start()
    P = S.PROFILES
    deadline = time.monotonic() + 90
    while store.query(f"SELECT sum({P.n}) FROM {P}")[0][0] < N and time.monotonic() < deadline:
        collector.poll_once()
    collector.flush()
    collector.close()
    assert store.count(S.EVENTS) == 0 and store.query(f"SELECT sum({P.n}) FROM {P}")[0][0] == N
    (parts,), = store.query(f"SELECT max(c) FROM (SELECT count() AS c FROM {P} "
                            f"GROUP BY {P.window_start})")
    assert parts > 1  # windows made of several partitions' and flushes' parts

    verdicts = Monitor(store, cfg).run_once()
    assert len(verdicts) >= 14  # the windows the watermark closed
    assert all(v.n_events == 500 for v in verdicts)
    assert not any(f.kind == "quality" for v in verdicts for f in v.findings)
    assert not any(v.drifted for v in verdicts[:4]) and verdicts[-1].drifted
    D = S.DRIFT_RESULTS
    drift = f"{D.metric} IN ('emd', 'linf')"  # numeric and categorical features
    assert store.query(f"SELECT DISTINCT {D.n_cur} FROM {D} WHERE {drift}") == [(500,)]
    scored = {r[0] for r in store.query(f"SELECT DISTINCT {D.feature} FROM {D} WHERE {drift}")}
    assert scored == set(reference) and {"plan", "region"} <= scored
