"""Models logged without raw events, through the real broker and collector.

A model logged as samples only: the monitor reads each window's sample, counts the
window as the collector did, finds the drift, and — once the stream has stopped for
longer than ``quality.silence`` — closes the windows the collector left open and reports
the silence. A model logged as profiles only: the monitor reads each window's merged
profile parts (several partitions and flushes) and finds the drift against an uploaded
training set."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

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
K = 200


def collected(broker: LocalBroker, topic: str, store: Store, model: dict[str, Any],
              quality: dict[str, Any] | None = None) -> tuple[Config, list[str]]:
    """The demo app's drifting stream logged, its training set uploaded, the events
    collected for ``model`` (its logging); the configuration and the features."""
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
        "models": [{"id": "demo", "window": "1h", **model}],
        "monitors": [{"name": "demo-drift", "model": "demo", "features": sorted(reference),
                      "reference": {"kind": "dataset", "dataset": "training"},
                      **({"quality": quality} if quality else {})}],
        "alerts": {"console": False},
    })
    collector = Collector(cfg, store, kafka_options={"bootstrap_servers": [broker.bootstrap]})
    collector.start()
    parts = f"SELECT sum({S.WINDOW_PARTS.n}) FROM {S.WINDOW_PARTS}"
    deadline = time.monotonic() + 90
    while store.query(parts)[0][0] < N and time.monotonic() < deadline:
        collector.poll_once()
    collector.flush()
    collector.close()
    assert store.count(S.EVENTS) == 0 and store.query(parts)[0][0] == N
    return cfg, sorted(reference)


def test_a_sampled_model_end_to_end_then_its_silence(broker: LocalBroker, topic: str,
                                                      store: Store) -> None:
    cfg, _ = collected(broker, topic, store, {"logging": ["sample"], "sample_size": K},
                       {"silence": "2h"})
    now = datetime.now(UTC)
    verdicts = Monitor(store, cfg, clock=lambda: now).run_once()
    assert len(verdicts) >= 14  # the windows the watermark closed
    assert all(v.n_events == 500 for v in verdicts)  # the collector's count, not K
    assert not any(f.kind == "quality" for v in verdicts for f in v.findings)
    assert not any(v.drifted for v in verdicts[:4]) and verdicts[-1].drifted
    (n_cur,), = store.query(f"SELECT max({S.DRIFT_RESULTS.n_cur}) FROM {S.DRIFT_RESULTS}")
    assert n_cur == K

    later = now + timedelta(hours=3, minutes=30)  # nothing stored for 3.5 h
    rest = Monitor(store, cfg, clock=lambda: later).run_once()
    # the windows the collector left open (the last with events), then 2 empty ones
    assert len(rest) >= 3 and rest[0].n_events > 0
    silent = [v for v in rest if v.n_events == 0]
    assert len(silent) >= 2 and all(
        [(f.metric, f.reason) for f in v.findings] == [("volume", "silence")] for v in silent)


def test_a_profile_only_model_end_to_end(broker: LocalBroker, topic: str, store: Store) -> None:
    cfg, features = collected(broker, topic, store, {"logging": ["profile"]})
    P = S.PROFILES
    assert store.query(f"SELECT sum({P.n}) FROM {P}")[0][0] == N
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
    assert scored == set(features) and {"plan", "region"} <= scored
