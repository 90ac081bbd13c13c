"""The demo's and the simulator's sends: backpressure, nothing lost at full speed."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from kafka import KafkaConsumer, TopicPartition

from driftscope.broker import LocalBroker, free_port
from driftscope.client import PredictionLogger
from driftscope.errors import BrokerError
from driftscope.simulators.app import DemoApp
from driftscope.simulators.delivery import answers, deliver


def _on_topic(bootstrap: str, topic: str) -> int:
    """Messages on the topic, counted by reading them (Tansu's end offsets run a few short)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    n = 0
    while batch := consumer.poll(timeout_ms=2000, max_records=5000):
        n += sum(len(records) for records in batch.values())
    consumer.close()
    return n


def test_a_full_speed_send_through_a_small_queue_loses_nothing(
    broker: LocalBroker, topic: str
) -> None:
    app = DemoApp("no-drift", seed=1, n_reference=1000, label_delay=10).fit()
    # what the demo and `simulate --rate 0` did before: a queue that drops when full
    with PredictionLogger(broker.bootstrap, topic=f"{topic}.dlq", max_queue=50) as plain:
        app.run(plain, 3000)
    assert plain.stats.rejected > 0  # the app outruns the producer: this queue overflows

    out = deliver(app, 3000, broker.bootstrap, topic=topic, max_queue=50)
    assert out.lost == 0
    assert out.counts.predictions == 3000 and out.counts.feedback == 3000
    assert out.delivered == 6000 == out.stats.sent
    assert _on_topic(broker.bootstrap, topic) == 6000


def _refused(where: str) -> tuple[float, str]:
    """Seconds a send to ``where`` took to stop, and its error."""
    app = DemoApp("no-drift", seed=1, n_reference=1000).fit()
    start = time.monotonic()
    with pytest.raises(BrokerError) as info:
        deliver(app, 1000, where, topic="t", max_queue=20, max_block=0.5,
                client_options={"request_timeout_ms": 1000})
    return time.monotonic() - start, str(info.value)


def test_an_unreachable_broker_stops_the_send_with_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing listening: one line at once (a new user's first `simulate` before `serve
    --broker` waited 35 s behind three ERROR lines of kafka-python's)."""
    dead = f"127.0.0.1:{free_port()}"
    took, error = _refused(dead)
    assert took < 10  # asked again for 5 s: a broker still starting
    assert error == (f"nothing answers at {dead}: no event was sent; is a broker running "
                     "there? (`driftscope serve --broker` starts one, --bootstrap names "
                     "another)")
    assert not [r for r in caplog.records if r.name.startswith("kafka")]


def test_a_listener_that_is_not_kafka_stops_the_send_with_one_line() -> None:
    """Something accepts connections but never answers as Kafka: the send stops once
    Kafka took no event for ``max_block`` seconds."""
    with socket.create_server(("127.0.0.1", 0)) as mute:
        where = f"127.0.0.1:{mute.getsockname()[1]}"
        took, error = _refused(where)
    assert took < 15
    assert "\n" not in error and where in error
    assert error.endswith("delivered; is a broker running there? (`driftscope serve "
                          "--broker` starts one, --bootstrap names another)")


def test_the_broker_check_reads_addresses_as_kafka_does_and_waits_for_a_late_one() -> None:
    """Found in review: ``PLAINTEXT://host:port`` (which the collector and kafka-python
    take) was refused by the check's own parsing; and a broker starting a second after
    ``simulate`` must still be found, as the client's retries found it before."""
    with socket.create_server(("127.0.0.1", 0)) as up:
        port = up.getsockname()[1]
        assert answers(f"PLAINTEXT://127.0.0.1:{port}")
        assert answers(f"127.0.0.1:{free_port()}, 127.0.0.1:{port}")
    late = free_port()

    def start() -> None:
        time.sleep(1.0)
        with socket.create_server(("127.0.0.1", late)) as server:
            server.accept()[0].close()

    starter = threading.Thread(target=start, daemon=True)
    starter.start()
    assert answers(f"127.0.0.1:{late}")
    starter.join(5)
