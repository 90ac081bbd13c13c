"""The Kafka notifier (retraining requests to a topic) when the broker goes away after
its producer was made, before it had the topic's metadata: kafka-python's send waited up
to 60 s for it (its ``max_block_ms``) before the notifier's own timeout applied, holding
the dispatcher's loop a minute a message; and closing it raised."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kafka import KafkaProducer

from driftscope.alerts.notifiers.kafka import KafkaNotifier
from driftscope.broker import LocalBroker
from driftscope.errors import NotifierError


def test_a_send_without_the_topics_metadata_fails_within_the_notifiers_timeout(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    local = LocalBroker().start()
    real = KafkaProducer.__init__

    def made_then_gone(self: KafkaProducer, **configs: Any) -> None:
        real(self, **configs)  # (it reached the broker)
        local.stop()

    monkeypatch.setattr(KafkaProducer, "__init__", made_then_gone)
    notifier = KafkaNotifier("retrain-outage", {"bootstrap_servers": local.bootstrap},
                             timeout=2.0)
    try:
        started = time.monotonic()
        with pytest.raises(NotifierError, match="kafka topic retrain-outage"):
            notifier.send({"event": "retrain"}, "k1")
        assert time.monotonic() - started < 10  # (60 s by kafka-python's default)
    finally:
        local.stop()
        notifier.close()  # (raised KafkaTimeoutError with a request undelivered)
