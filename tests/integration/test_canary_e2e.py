"""A canary, end to end: the demo application with a new version serving a tenth of the
traffic from the middle (its feature pipeline broken: accuracy 0.14-0.39 against 0.65-0.73) →
PredictionLogger → local Kafka broker → collector (labels as feedback) → chDB → a monitor
with ``segments: [model_version]`` and a rule ``versus: rest``: the canary's windows, and
only those, are flagged; all events' accuracy (0.61-0.70, against 0.69-0.74 before it)
is flagged in none. A second monitor compares the canary's inputs with the rest of each
hour (``versus_rest``): they are the same traffic (the bug is inside its model), and none is
flagged. A canary that sends its numeric inputs in hundredths, with no labels at all, is
flagged against the rest of each hour it served, from the first."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from test_monitor_e2e import collect

from driftscope.alerts.engine import AlertEngine
from driftscope.broker import LocalBroker
from driftscope.client import PredictionLogger
from driftscope.config import Config
from driftscope.monitor.scheduler import Monitor
from driftscope.simulators.app import DemoApp
from driftscope.simulators.scenarios import Clock
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

N = 8000  # 500 events per simulated hour: 16 one-hour windows, the canary from the middle
D, OUT = S.DRIFT_RESULTS, S.ALERT_OUTBOX


def test_a_broken_canary_is_found_in_each_window_it_served(broker: LocalBroker, topic: str,
                                                           store: Store) -> None:
    clock = Clock(start=datetime(2026, 5, 1, tzinfo=UTC), events_per_second=500 / 3600)
    app = DemoApp("no-drift", seed=5, clock=clock, n_reference=4000, label_delay=20,
                  canary=0.1)
    with PredictionLogger(broker.bootstrap, topic=topic) as logger:
        counts = app.run(logger, N)
        assert logger.flush(60)
    assert counts.canary > 0 and counts.canary_accuracy < counts.accuracy - 0.1
    cfg = Config.model_validate({
        "kafka": {"bootstrap_servers": broker.bootstrap, "topic": topic,
                  "dead_letter_topic": f"{topic}.dlq", "group_id": f"{topic}.g"},
        "collector": {"flush_interval": "0.3s"},
        "models": [{"id": "demo", "window": "1h"}],
        "monitors": [{"name": "canary", "model": "demo", "features": ["age"],
                      "segments": ["model_version"],
                      "reference": {"kind": "initial", "windows": 4},
                      "performance": {"task": "classification", "prediction": "class",
                                      "metrics": ["accuracy"]},
                      "rules": [{"metric": "accuracy", "versus": "rest", "op": "<",
                                 "value": -0.05, "segment": "model_version"}]},
                     {"name": "inputs", "model": "demo", "features": ["age", "income"],
                      "segments": ["model_version"],
                      "versus_rest": ["model_version"],
                      "reference": {"kind": "initial", "windows": 4}}],
        "alerts": {"console": False},
    })
    collect(cfg, store, broker, N)
    Monitor(store, cfg).run_once()
    rows = store.query(
        f"SELECT toHour({D.window_start}), {D.segment}, {D.statistic}, {D.drifted}, "
        f"{D.policy} FROM {D} FINAL WHERE {D.metric} = 'accuracy' ORDER BY 1, 2")
    flagged = {(h, s) for h, s, _, d, _ in rows if d}
    canary_hours = {h for h, s, *_ in rows if s == "model_version=2"}
    assert min(canary_hours) == 8 and len(canary_hours) >= 7  # (from the middle)
    assert flagged == {(h, "model_version=2") for h in canary_hours}
    # its inputs are drawn from the same traffic as the old version's (the bug is in
    # its model): against the rest of each hour, compared in each and never flagged
    drift = store.query(
        f"SELECT toHour({D.window_start}), {D.segment}, {D.feature}, "
        f"JSONExtractBool({D.details}, 'model_level') FROM {D} FINAL WHERE "
        f"{D.monitor} = 'inputs' AND JSONExtractString({D.details}, 'versus') = 'rest'")
    assert {(h, s, f) for h, s, f, _ in drift} == {
        (h, "model_version=2", f) for h in canary_hours for f in ("age", "income")}
    assert not [r for r in drift if r[-1]]


def test_a_canary_sending_other_units_is_found_from_its_first_hour_without_labels(
    broker: LocalBroker, topic: str, store: Store,
) -> None:
    """The canary sends (and logs) its numeric inputs in hundredths; no labels are sent.
    Against the rest of each hour (``versus_rest``) its ``age`` and ``income`` are flagged
    in every hour it served, from the first, and the alert names the version."""
    clock = Clock(start=datetime(2026, 5, 1, tzinfo=UTC), events_per_second=500 / 3600)
    app = DemoApp("no-drift", seed=5, clock=clock, n_reference=4000, label_share=0.0,
                  canary=0.1, canary_bug="units")
    with PredictionLogger(broker.bootstrap, topic=topic) as logger:
        counts = app.run(logger, N)
        assert logger.flush(60)
    assert counts.canary > 0 and counts.feedback == 0
    cfg = Config.model_validate({
        "kafka": {"bootstrap_servers": broker.bootstrap, "topic": topic,
                  "dead_letter_topic": f"{topic}.dlq", "group_id": f"{topic}.g"},
        "collector": {"flush_interval": "0.3s"},
        "models": [{"id": "demo", "window": "1h"}],
        "monitors": [{"name": "inputs", "model": "demo", "features": ["age", "income"],
                      "segments": ["model_version"], "versus_rest": ["model_version"],
                      "reference": {"kind": "initial", "windows": 4}}],
        "alerts": {"console": True},
    })
    collect(cfg, store, broker, N)
    engine = AlertEngine(store, cfg.alerts)
    Monitor(store, cfg, alerts=engine).run_once()
    rows = store.query(
        f"SELECT toHour({D.window_start}), {D.feature}, "
        f"JSONExtractBool({D.details}, 'model_level') FROM {D} FINAL WHERE "
        f"{D.segment} = 'model_version=2' AND JSONExtractString({D.details}, 'versus') = 'rest'")
    hours = {h for h, *_ in rows}
    assert min(hours) == 8 and len(hours) >= 7  # (from the middle)
    assert {(h, f) for h, f, bad in rows if bad} == {
        (h, f) for h in hours for f in ("age", "income")}
    lines = [x for (p,) in store.query(f"SELECT {OUT.payload} FROM {OUT} FINAL WHERE "
                                       f"{OUT.channel} = 'console'")
             for x in json.loads(p)["lines"]]
    assert any(x.startswith("age [model_version=2] (emd ") and
               x.endswith("— against the rest of its window") for x in lines), lines
