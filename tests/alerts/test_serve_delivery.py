"""`driftscope serve` delivers the outbox beside the monitor passes: a Slack that is down
holds up the alerts, not the monitoring, and a stop does not wait out the retries."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from driftscope.broker import LocalBroker
from driftscope.config import Config, Secrets
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 4, 1, tzinfo=UTC)
W = timedelta(minutes=5)


def test_a_slack_outage_holds_up_the_alerts_not_the_monitor(
    broker: LocalBroker, topic: str, store: Store, slack: Any,
) -> None:
    from driftscope.serve import serve

    write_windows(store, "m", T0, W, 12, 300, lambda i, rng, n: {
        "x": rng.normal(2.0 if i >= 8 else 0.0, 1, n)}, seed=9)
    cfg = Config.model_validate({
        "kafka": {"bootstrap_servers": broker.bootstrap, "topic": topic},
        "store": {"dsn": store.dsn, "database": store.database},
        "models": [{"id": "m", "window": "5m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"], "reference": {
            "kind": "fixed", "start": T0.isoformat(), "end": (T0 + 5 * W).isoformat()}}],
        "alerts": {"console": False, "slack": True, "retries": 6, "backoff": "4s",
                   "backoff_max": "8s"},  # about 40 s of retries for one new message
    })
    slack.mode = "down"
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            serve(cfg, Secrets(slack_webhook_url=SecretStr(slack.url)), stop, interval=0.5,
                  store_port=0,
                  settle=timedelta(0))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not slack.bodies:  # the alert's first post, Slack down
            assert time.monotonic() < deadline and not errors, errors
            time.sleep(0.1)
        first = store.count(S.MONITOR_PASSES)
        time.sleep(4)  # within the retries' waits
        assert store.count(S.MONITOR_PASSES) >= first + 3, "the monitor kept passing"
        posts = len(slack.bodies)
        stopped = time.monotonic()
        stop.set()
        thread.join(30)
        assert not thread.is_alive() and time.monotonic() - stopped < 15, \
            "the stop did not wait out the retries"
    finally:
        stop.set()
        thread.join(30)
    assert not errors, errors
    assert posts < 7  # it stopped within the retries
    (status,) = store.query(f"SELECT {S.ALERT_OUTBOX.status} FROM {S.ALERT_OUTBOX} FINAL "
                            f"WHERE {S.ALERT_OUTBOX.kind} = 'firing'")[0]
    assert status == "sending"  # kept for the next run, under its key
