"""Monitor → alerts → Slack/webhook/Kafka, end to end, on chDB and the local broker.

Slack and webhooks are local HTTP servers on 127.0.0.1 that record what they receive.
Windows are written straight into the store (the collector's table shapes); the detectors,
thresholds, false-discovery control and alert rules are the real ones.
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from http_recorder import Recorder, serving
from pydantic import SecretStr

from driftscope.alerts.channels import dispatcher
from driftscope.alerts.engine import AlertEngine
from driftscope.broker import LocalBroker, ensure_topics
from driftscope.config import Config, Secrets
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
FIVE = timedelta(minutes=5)


@pytest.fixture
def slack() -> Iterator[Recorder]:
    yield from serving()


def make_config(
    reference: dict[str, Any], features: list[str], *, window: str = "5m",
    retrain_topic: str | None = None, bootstrap: str = "127.0.0.1:9", **monitor: Any
) -> Config:
    retrain: dict[str, Any] = {"kafka": retrain_topic is not None, "policies": []}
    if retrain_topic:
        retrain["policies"] = [{"name": "sustained", "kind": "drift_sustained", "windows": 3}]
    return Config.model_validate({
        "kafka": {"bootstrap_servers": bootstrap, "retrain_topic": retrain_topic or "unused"},
        "models": [{"id": "churn", "window": window}],
        "monitors": [{"name": "churn-drift", "model": "churn", "features": features,
                      "reference": reference, **monitor}],
        "alerts": {"console": False, "slack": True, "grafana_url": "http://grafana.local",
                   "backoff": "10ms", "retrain": retrain},
    })


def fixed(start: datetime, end: datetime) -> dict[str, Any]:
    return {"kind": "fixed", "start": start.isoformat(), "end": end.isoformat()}


def run(store: Store, cfg: Config, url: str) -> dict[str, int]:
    Monitor(store, cfg, alerts=AlertEngine(store, cfg.alerts)).run_once()
    secrets = Secrets(slack_webhook_url=SecretStr(url))
    return dispatcher(store, cfg, secrets, sleep=lambda s: None).run()


def consume(bootstrap: str, topic: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Every record on ``topic`` up to its end offsets when called (no fixed wait)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        assert parts, f"topic {topic} has no partitions"
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(p) < end[p] for p in parts):
            assert time.monotonic() < deadline, f"{topic}: records up to {end} not read"
            for records in consumer.poll(timeout_ms=300).values():
                out += [json.loads(r.value) for r in records]
        return out
    finally:
        consumer.close()


def test_gradual_drift_makes_one_grouped_slack_message_and_one_retrain_request(
    store: Store, slack: Recorder, broker: LocalBroker
) -> None:
    features = [f"f{i}" for i in range(12)]

    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        shift = max(0.0, (i - 20) * 0.1)  # a drift that grows window after window
        return {f: rng.normal(shift, 1.0, n) for f in features}

    write_windows(store, "churn", T0, FIVE, 40, 300, gen, seed=1)
    topic = f"retrain.{uuid.uuid4().hex[:8]}"
    ensure_topics(broker.bootstrap, [topic], partitions=1)
    cfg = make_config(fixed(T0, T0 + 10 * FIVE), features, retrain_topic=topic,
                      bootstrap=broker.bootstrap)
    counts = run(store, cfg, slack.url)
    assert counts["failed"] == 0
    assert len(slack.accepted) == 1
    message = slack.accepted[0]
    text = json.dumps(message)
    assert "churn" in text and "Open in Grafana" in text and "http://grafana.local/d/" in text
    assert sum(f in text for f in features) >= 5  # the top features, in one message
    assert store.count(f"{S.ALERTS} FINAL") == 1
    requests = consume(broker.bootstrap, topic)
    assert len(requests) == 1
    req = requests[0]
    assert req["model_id"] == "churn" and req["evidence"]["drifted_windows"] == 3
    assert req["suggested_training_window"]["until"] == req["window_end"]
    # re-running processes nothing new and sends nothing new
    assert run(store, cfg, slack.url)["sent"] == 0
    assert len(slack.accepted) == 1 and len(consume(broker.bootstrap, topic)) == 1


def test_no_drift_stream_of_500_windows_raises_no_alert(store: Store, slack: Recorder) -> None:
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"age": rng.normal(40, 10, n), "income": rng.lognormal(10, 1, n),
                "plan": rng.choice(np.array(["basic", "pro", "team"], dtype=object), n)}

    write_windows(store, "churn", T0, FIVE, 500, 300, gen, seed=2)
    cfg = make_config(fixed(T0, T0 + 20 * FIVE), ["age", "income", "plan"])
    run(store, cfg, slack.url)
    assert store.count(S.MONITOR_WINDOWS) == 500
    # the default detectors: EMD on the 2 numeric features, L-inf on the categorical one
    assert store.count(S.DRIFT_RESULTS, f"{S.DRIFT_RESULTS.metric} = 'emd'") == 1000
    assert store.count(S.DRIFT_RESULTS, f"{S.DRIFT_RESULTS.metric} = 'linf'") == 500
    assert store.count(S.ALERTS) == 0
    assert slack.posts == []


def test_a_one_window_spike_does_not_page(store: Store, slack: Recorder) -> None:
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        shift = 2.0 if i == 30 else 0.0
        return {"a": rng.normal(shift, 1, n), "b": rng.normal(shift, 1, n)}

    write_windows(store, "churn", T0, FIVE, 40, 300, gen, seed=3)
    cfg = make_config(fixed(T0, T0 + 10 * FIVE), ["a", "b"])
    run(store, cfg, slack.url)
    bad = store.query(f"SELECT {S.MONITOR_WINDOWS.window_start} FROM {S.MONITOR_WINDOWS} "
                      f"WHERE {S.MONITOR_WINDOWS.bad} = 1")
    assert [r[0].replace(tzinfo=UTC) for r in bad] == [T0 + 30 * FIVE]  # seen, recorded …
    assert store.count(S.ALERTS) == 0 and slack.posts == []  # … but nobody paged


@pytest.mark.parametrize(("reference", "alerted"), [("seasonal", False), ("fixed", True)])
def test_seasonal_data_against_seasonal_and_fixed_references(
    store: Store, slack: Recorder, reference: str, alerted: bool
) -> None:
    hour = timedelta(hours=1)

    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        level = 1.5 * math.sin(2 * math.pi * (i % 24) / 24)  # a daily cycle
        return {"load": rng.normal(level, 1.0, n), "temp": rng.normal(level, 1.0, n)}

    write_windows(store, "churn", T0, hour, 72, 300, gen, seed=4)
    ref = ({"kind": "seasonal", "period": "1d"} if reference == "seasonal"
           else fixed(T0, T0 + 4 * hour))
    cfg = make_config(ref, ["load", "temp"], window="1h")
    run(store, cfg, slack.url)
    n_drift = store.count(S.MONITOR_WINDOWS, "JSONExtractArrayRaw(summary, 'drifted') != []")
    n_alerts = store.count(f"{S.ALERTS} FINAL")
    assert (n_alerts > 0) is alerted
    assert (len(slack.accepted) > 0) is alerted
    if reference == "seasonal":
        assert n_drift <= 1  # day 2 and 3 each compared with the same hour a day earlier
    else:  # the daily swing leaves the reference's range every day: an incident or two a day
        assert n_drift > 20 and 1 <= n_alerts <= 8


def test_a_receiver_failing_three_times_gets_the_message_once(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    server = Recorder(fail_first=3)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
            return {"a": rng.normal(1.5 if i >= 12 else 0.0, 1, n)}

        write_windows(store, "churn", T0, FIVE, 16, 300, gen, seed=5)
        cfg = make_config(fixed(T0, T0 + 10 * FIVE), ["a"])
        counts = run(store, cfg, server.url)
        assert counts == {"sent": 1, "failed": 0, "skipped": 0, "held": 0}
        assert len(server.posts) == 4 and len(server.accepted) == 1
        assert run(store, cfg, server.url)["sent"] == 0 and len(server.posts) == 4
        row = store.query(f"SELECT {S.ALERT_OUTBOX.status}, {S.ALERT_OUTBOX.attempts}, "
                          f"{S.ALERT_OUTBOX.last_error} FROM {S.ALERT_OUTBOX} FINAL")
        assert row[0][:2] == ("sent", 4)
        assert "s3cr3tTOKEN" not in caplog.text and "HTTP 500" in caplog.text
    finally:
        server.shutdown()
        server.server_close()


def two_monitors_drifting_together(store: Store) -> Config:
    """Monitors ``churn-drift`` (feature a) and ``churn-b`` (feature b) of one model, whose
    features both shift from window 12 of 16, so both open an alert in the same window."""

    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        shift = 1.5 if i >= 12 else 0.0
        return {"a": rng.normal(shift, 1, n), "b": rng.normal(shift, 1, n)}

    write_windows(store, "churn", T0, FIVE, 16, 300, gen, seed=6)
    cfg = make_config(fixed(T0, T0 + 10 * FIVE), ["a"])
    second = cfg.monitors[0].model_copy(update={"name": "churn-b", "features": ["b"]})
    cfg = cfg.model_copy(update={"monitors": [*cfg.monitors, second]})
    return cfg


def test_two_monitors_firing_in_one_window_make_one_message(store: Store, slack: Recorder) -> None:
    cfg = two_monitors_drifting_together(store)
    counts = run(store, cfg, slack.url)
    assert store.count(f"{S.ALERTS} FINAL") == 2  # one incident per monitor …
    assert counts == {"sent": 2, "failed": 0, "skipped": 0, "held": 0}  # … both outbox rows sent …
    assert len(slack.accepted) == 1  # … as one message for the model and window
    message = slack.accepted[0]
    text = json.dumps(message)
    assert "churn / churn-drift" in text and "churn / churn-b" in text
    assert [b["type"] for b in message["blocks"]].count("header") == 1
    assert message["text"].startswith("Drift alert: churn — 2 alerts")
    assert run(store, cfg, slack.url)["sent"] == 0 and len(slack.accepted) == 1


def test_a_dispatcher_beside_the_monitor_holds_a_group_until_its_pass_is_complete(
    store: Store, slack: Recorder
) -> None:
    from driftscope.alerts.channels import build_channels
    from driftscope.alerts.outbox import Dispatcher, Outbox

    cfg = two_monitors_drifting_together(store)
    channels = build_channels(cfg, Secrets(slack_webhook_url=SecretStr(slack.url)))

    def dispatch() -> dict[str, int]:
        d = Dispatcher(Outbox(store), channels, sleep=lambda s: None)
        return d.run(hold=cfg.alerts.group_wait)

    engine = AlertEngine(store, cfg.alerts)
    during: list[dict[str, int]] = []

    class Beside:
        """The alerts service's loop ticking while the monitor's pass is half done."""

        def process(self, v: Any) -> Any:
            if v.monitor == "churn-b" and not during:
                during.append(dispatch())
            return engine.process(v)

    Monitor(store, cfg, alerts=Beside()).run_once()
    assert during == [{"sent": 0, "failed": 0, "skipped": 0, "held": 1}]  # a's alert waits
    assert slack.accepted == []
    counts = dispatch()  # the pass has finished: the whole group goes, as one message
    assert counts["sent"] == 2 and counts["held"] == 0 and len(slack.accepted) == 1
    text = json.dumps(slack.accepted[0])
    assert "churn / churn-drift" in text and "churn / churn-b" in text


@pytest.mark.parametrize("persistence", [True, False])
def test_a_slow_drift_pages_from_the_window_it_began_when_that_window_moved_the_same_way(
    store: Store, slack: Recorder, persistence: bool
) -> None:
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        shift = 0.0 if i < 20 else 0.15 if i == 20 else 0.5  # weak at first (3 : 10), then plain
        return {"a": rng.normal(shift, 1, n), "b": rng.normal(shift, 1, n)}

    write_windows(store, "churn", T0, FIVE, 22, 300, gen, seed=5)
    cfg = make_config(fixed(T0, T0 + 10 * FIVE), ["a", "b"],
                      persistence={"enabled": persistence})
    run(store, cfg, slack.url)
    M = S.MONITOR_WINDOWS
    rows = store.query(f"SELECT {M.window_start}, {M.bad}, {M.summary} FROM {M} FINAL "
                       f"WHERE {M.window_start} >= {{t:DateTime64(3, 'UTC')}} "
                       f"ORDER BY {M.window_start}", {"t": T0 + 20 * FIVE})
    assert [r[1] for r in rows] == [0, 1]  # the drift's first window is too weak to flag
    if not persistence:  # two flagged windows in a row are needed: nobody is paged yet
        assert store.count(S.ALERTS) == 0 and slack.accepted == []
        return
    summary = json.loads(rows[1][2])
    assert summary["carried"] is True and summary["persistence_z"] > 2.33  # z(0.01)
    (opened,), = store.query(f"SELECT {S.ALERTS.window_start} FROM {S.ALERTS} FINAL")
    assert opened.replace(tzinfo=UTC) == T0 + 20 * FIVE  # the incident began a window earlier
    assert len(slack.accepted) == 1


@pytest.mark.parametrize("same_way", [False, True])
def test_a_spike_beside_a_chance_finding_on_another_column_does_not_page(
    store: Store, slack: Recorder, same_way: bool
) -> None:
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        a = 2.0 if i == 30 else 0.0  # the spike: column a, one window
        b = 0.5 if i == 29 else 0.0  # the window before: column b alone
        if same_way and i == 29:
            a, b = 0.7, 0.0  # … or the spike's own column, the same way (a 1 : 3 ramp)
        return {"a": rng.normal(a, 1, n), "b": rng.normal(b, 1, n)}

    # (at seed 9 the window before b's finding passes the 1 % carried test by chance)
    write_windows(store, "churn", T0, FIVE, 40, 300, gen, seed=10)
    cfg = make_config(fixed(T0, T0 + 10 * FIVE), ["a", "b"])
    run(store, cfg, slack.url)
    M = S.MONITOR_WINDOWS
    bad = store.query(f"SELECT {M.window_start}, {M.summary} FROM {M} FINAL "
                      f"WHERE {M.bad} = 1 ORDER BY {M.window_start}")
    assert [r[0].replace(tzinfo=UTC) for r in bad] == [T0 + 29 * FIVE, T0 + 30 * FIVE]
    assert json.loads(bad[1][1])["follows"] is same_way
    assert (store.count(S.ALERTS) > 0) is same_way
    assert (len(slack.accepted) > 0) is same_way


@pytest.mark.parametrize("after", ["weaker", "another column", "the spike again"])
def test_a_window_flagged_after_a_spike_pages_only_when_the_spike_goes_on(
    store: Store, slack: Recorder, after: str
) -> None:
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        a, b_sd = (2.0 if i == 30 else 0.0), 1.0  # the spike: column a, one window
        if i == 31:
            if after == "weaker":
                a = 0.4  # the spike's column, its way, far weaker: the spike has ended
            elif after == "another column":
                b_sd = 1.8  # column b's spread alone (no direction to compare)
            else:
                a = 2.0
        return {"a": rng.normal(a, 1, n), "b": rng.normal(0, b_sd, n)}

    write_windows(store, "churn", T0, FIVE, 40, 300, gen, seed=9)
    run(store, make_config(fixed(T0, T0 + 10 * FIVE), ["a", "b"]), slack.url)
    M = S.MONITOR_WINDOWS
    bad = store.query(f"SELECT {M.window_start}, {M.summary} FROM {M} FINAL "
                      f"WHERE {M.bad} = 1 ORDER BY {M.window_start}")
    assert [r[0].replace(tzinfo=UTC) for r in bad] == [T0 + 30 * FIVE, T0 + 31 * FIVE]
    pages = after == "the spike again"
    assert json.loads(bad[1][1])["drifted"] == (["b"] if after == "another column" else ["a"])
    assert (store.count(S.ALERTS) > 0) is pages
    assert (len(slack.accepted) > 0) is pages


@pytest.mark.parametrize("restart", [False, True])
def test_a_column_the_spike_moved_too_pages_only_when_it_stays_a_third_window(
    store: Store, slack: Recorder, restart: bool
) -> None:
    """A spike on a and b that moved c as well, then c alone shifted the same way: the
    spike has ended (the second window kept almost none of its move), so the pair is no
    incident; c shifted a third window in a row is one, and pages. With ``restart`` the
    monitor stops after the spike's window and a new pass reads what it drifted on back."""
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        a = b = 2.0 if i == 30 else 0.0
        c = 0.6 if i in (30, 31, 32) else 0.0
        return {"a": rng.normal(a, 1, n), "b": rng.normal(b, 1, n), "c": rng.normal(c, 1, n)}

    cfg = make_config(fixed(T0, T0 + 10 * FIVE), ["a", "b", "c"])
    M = S.MONITOR_WINDOWS

    def bad_windows() -> list[tuple[datetime, dict[str, Any]]]:
        return [(r[0].replace(tzinfo=UTC), json.loads(r[1])) for r in store.query(
            f"SELECT {M.window_start}, {M.summary} FROM {M} FINAL WHERE {M.bad} = 1 "
            f"ORDER BY {M.window_start}")]

    # with a restart, a first pass sees windows up to the spike's only
    write_windows(store, "churn", T0, FIVE, 31 if restart else 40, 300, gen, seed=11)
    run(store, cfg, slack.url)
    if restart:
        write_windows(store, "churn", T0 + 31 * FIVE, FIVE, 9, 300,
                      lambda i, rng, n: gen(i + 31, rng, n), seed=12)
        run(store, cfg, slack.url)
    bad = bad_windows()
    assert [t for t, _ in bad] == [T0 + k * FIVE for k in (30, 31, 32)]
    assert bad[0][1]["drifted"] == ["a", "b", "c"] and bad[1][1]["drifted"] == ["c"]
    assert bad[1][1]["follows"] is False and bad[1][1]["carried"] is False
    (opened,), = store.query(f"SELECT {S.ALERTS.window_start} FROM {S.ALERTS} FINAL")
    assert opened.replace(tzinfo=UTC) == T0 + 30 * FIVE  # a third bad window: it pages
    page = json.dumps(slack.accepted[0])
    assert "Drift alert" in page and "for 3 windows" in page  # sent at window 32
    assert len(slack.accepted) == 2  # the alert, and later its resolution
